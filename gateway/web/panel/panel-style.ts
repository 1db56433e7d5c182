// The panel's styles (adopted by the shadow root; no inline <style>, so a strict CSP is fine).
export const PANEL_CSS = `
:host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1b1f24; color-scheme: light; }
a { color: #0969da; }
.panel { background: #fff; box-shadow: 0 2px 8px rgba(0,0,0,.35); border: 1px solid #c9d1d9; border-radius: 8px; padding: 10px 12px; max-width: 460px; }
.head { display: flex; align-items: center; gap: 8px; }
.badge { background: #d1242f; color: #fff; font-weight: 700; letter-spacing: .05em; padding: 2px 8px; border-radius: 4px; }
.badge[data-state="starting"], .badge[data-state="reconnecting"] { background: #bf8700; }
.state[data-state="failed"] { color: #d1242f; font-weight: 600; }
.error { color: #d1242f; margin: 6px 0; }
.row { display: flex; align-items: center; gap: 8px; margin: 6px 0; flex-wrap: wrap; }
.watch a { overflow-wrap: anywhere; }
code { background: #f3f4f6; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
button, select, input { font: inherit; }
button { color: #1b1f24; padding: 4px 10px; border: 1px solid #8c959f; border-radius: 5px; background: #f6f8fa; cursor: pointer; }
button.primary { background: #1f883d; border-color: #1f883d; color: #fff; }
button.danger { background: #fff; border-color: #d1242f; color: #d1242f; }
button:disabled, select:disabled, input:disabled { opacity: .55; cursor: not-allowed; }
:focus-visible { outline: 3px solid #0969da; outline-offset: 1px; }
.exclude { display: block; margin: 6px 0; }
details { margin: 6px 0; }
summary { cursor: pointer; }
form label { display: block; margin: 4px 0; }
form input { width: 100%; box-sizing: border-box; }
.dest-state.live { color: #1f883d; }
.dest-state.retrying, .dest-state.connecting { color: #bf8700; }
.dest-state.failed { color: #d1242f; }
.confirm { border: 1px solid #d1242f; border-radius: 6px; padding: 6px 8px; margin-top: 6px; }
.muted { color: #57606a; }
[hidden] { display: none !important; }
`;
