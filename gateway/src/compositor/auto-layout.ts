import type { LayoutMode } from './layout.ts';

/**
 * The `auto` layout as a pure state machine: screen when someone shares, else speaker when one
 * person has been talking alone for a while, else grid. Hysteresis keeps it from flickering:
 * a candidate mode must stay wanted for its hold time, and a mode stays at least `minDwellMs`
 * (a share starting is the exception: it switches at once, that is what viewers want to see).
 */

export interface AutoInputs {
  screenSharing: boolean;
  activeSpeaker: string | null;
  /** Visible items; with one or none, speaker and grid are the same picture: stay in grid. */
  participantCount: number;
}

export interface AutoState {
  mode: LayoutMode;
  /** When `mode` was entered. */
  since: number;
  candidate: LayoutMode | null;
  candidateSince: number;
  speaker: string | null;
  speakerSince: number;
  /** Times of recent active-speaker changes (a conversation: several people talk in turn). */
  speakerChanges: number[];
}

export const AUTO_TIMING = {
  /** One person must hold the floor this long before speaker mode. */
  soloSpeakerMs: 3000,
  /** This many speaker changes within `conversationWindowMs` means a conversation → grid. */
  conversationChanges: 3,
  conversationWindowMs: 10_000,
  hold: { screen: 0, speaker: 1000, grid: 3000 } satisfies Record<LayoutMode, number>,
  minDwellMs: 4000,
};

export function initialAutoState(now: number): AutoState {
  return {
    mode: 'grid',
    since: now,
    candidate: null,
    candidateSince: now,
    speaker: null,
    speakerSince: now,
    speakerChanges: [],
  };
}

/** What auto would show right now if there were no hysteresis. */
export function desiredAutoMode(state: AutoState, inputs: AutoInputs, now: number): LayoutMode {
  if (inputs.screenSharing) return 'screen';
  if (inputs.participantCount < 2 || inputs.activeSpeaker === null) return 'grid';
  const recent = state.speakerChanges.filter((t) => now - t < AUTO_TIMING.conversationWindowMs).length;
  if (recent >= AUTO_TIMING.conversationChanges) return 'grid';
  return now - state.speakerSince >= AUTO_TIMING.soloSpeakerMs
    ? 'speaker'
    : state.mode === 'speaker'
      ? 'speaker'
      : 'grid';
}

/** Advance the machine; call on every input change and periodically (e.g. each second). */
export function autoLayout(prev: AutoState, inputs: AutoInputs, now: number): AutoState {
  const state: AutoState = { ...prev, speakerChanges: prev.speakerChanges };
  if (inputs.activeSpeaker !== prev.speaker) {
    state.speaker = inputs.activeSpeaker;
    state.speakerSince = now;
    if (inputs.activeSpeaker !== null) {
      state.speakerChanges = [
        ...prev.speakerChanges.filter((t) => now - t < AUTO_TIMING.conversationWindowMs),
        now,
      ];
    }
  }
  const desired = desiredAutoMode(state, inputs, now);
  if (desired === state.mode) {
    state.candidate = null;
    return state;
  }
  if (state.candidate !== desired) {
    state.candidate = desired;
    state.candidateSince = now;
  }
  const held = now - state.candidateSince >= AUTO_TIMING.hold[desired];
  const dwelt = desired === 'screen' || now - state.since >= AUTO_TIMING.minDwellMs;
  if (held && dwelt) {
    state.mode = desired;
    state.since = now;
    state.candidate = null;
  }
  return state;
}
