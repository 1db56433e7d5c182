/**
 * roomcast/connector: what an existing Node mediasoup app imports to let a roomcast gateway
 * livestream its rooms (see docs/sidecar.md). Small on purpose: ws, zod and node:crypto only;
 * mediasoup is the app's own (only its types are used here).
 */
export {
  RoomcastConnector,
  type RoomcastConnectorOptions,
  type RoomcastConnectorEvents,
  type ConnectorStatus,
  type ConnectorLogger,
} from './connector.ts';
export { RoomHandle, type ParticipantDescription, type TrackSource } from './room-handle.ts';
export {
  signPanelToken,
  verifyPanelToken,
  type PanelRole,
  type PanelTokenClaims,
  type SignPanelTokenInput,
  type VerifyPanelTokenResult,
  type VerifyPanelTokenOptions,
  type PanelTokenError,
} from '../sidecar/panel-token.ts';
export { SIDECAR_PATH, PROTOCOL_VERSION } from '../sidecar/protocol.ts';
