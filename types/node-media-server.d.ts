// Declarations for the parts of node-media-server 4.4.3 that roomcast uses (the package ships
// none; @types/node-media-server describes the incompatible v2). Shapes read from its src/.

declare module 'node-media-server/src/core/context.js' {
  import type { EventEmitter } from 'node:events';
  import type { NmsBroadcast, NmsConfig, NmsSession } from 'node-media-server';

  interface NmsContext {
    config: NmsConfig;
    sessions: Map<string, NmsSession>;
    broadcasts: Map<string, NmsBroadcast>;
    eventEmitter: EventEmitter;
  }
  const Context: NmsContext;
  export default Context;
}

declare module 'node-media-server/src/core/logger.js' {
  interface NmsLogger {
    level: string;
    log(message: string, logLevel?: string): void;
  }
  const logger: NmsLogger;
  export default logger;
}

declare module 'node-media-server/src/server/rtmp_server.js' {
  import type { Server, Socket } from 'node:net';
  class NodeRtmpServer {
    constructor();
    tcpServer?: Server;
    _sockets: Set<Socket>;
    /** Connection handler: wraps the socket in an RtmpSession. */
    handleRequest(socket: Socket): void;
    run(): void;
    stop(): void;
  }
  export default NodeRtmpServer;
}

declare module 'node-media-server' {
  import type { Socket } from 'node:net';

  export interface NmsConfig {
    bind?: string;
    rtmp?: { port?: number };
    http?: { port?: number };
    auth?: { play?: boolean; publish?: boolean; secret?: string };
    record?: { auto?: boolean; path?: string };
    store?: { path?: string };
  }

  /** The RTMP protocol state machine of one connection (src/protocol/rtmp.js). */
  export interface NmsRtmpProtocol {
    onPacketCallback: (packet: unknown) => void;
    onOutputCallback: (buffer: Buffer) => void;
  }

  /** An RTMP session (src/session/rtmp_session.js). Only `protocol === 'rtmp'` has `socket`. */
  export interface NmsSession {
    id: string;
    /** "address:port" of the peer ("" for internal sessions). */
    ip: string;
    protocol: string;
    isPublisher: boolean;
    streamApp: string;
    streamName: string;
    streamPath: string;
    streamQuery: Record<string, unknown>;
    createTime: number;
    inBytes: number;
    outBytes: number;
    videoWidth: number;
    videoHeight: number;
    socket?: Socket;
    rtmp?: NmsRtmpProtocol;
    onData?: (data: Buffer) => void;
    close(): void;
  }

  /** One stream path's fan-out (src/server/broadcast_server.js). */
  export interface NmsBroadcast {
    streamPath: string;
    publisher: NmsSession | null;
    subscribers: Map<string, NmsSession>;
    getPublishStatus(): 'publishing' | 'reconnecting' | 'idle';
  }

  export type NmsEvent =
    | 'preConnect'
    | 'postConnect'
    | 'doneConnect'
    | 'prePublish'
    | 'postPublish'
    | 'donePublish'
    | 'prePlay'
    | 'postPlay'
    | 'donePlay';

  export default class NodeMediaServer {
    constructor(config: NmsConfig, configPath?: string);
    on(eventName: NmsEvent, listener: (session: NmsSession) => void): void;
    run(): Promise<void>;
    stop(): Promise<void>;
  }
}
