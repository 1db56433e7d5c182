import { definePanel } from './panel-element.ts';

// /embed/panel.js: load with <script type="module" src="https://<gateway>/embed/panel.js">, then
// use <roomcast-panel room="…" token="…">. Standalone: no mediasoup-client, no other chunks.
definePanel();

export { RoomcastPanel } from './panel-element.ts';
