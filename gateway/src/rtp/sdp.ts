import type { types as ms } from 'mediasoup';

/** One RTP stream that an ffmpeg receiver should read from a local UDP port. */
export interface RtpReceiveStream {
  kind: 'audio' | 'video';
  port: number;
  /** RTCP port (rtcp-mux is off for ffmpeg). Defaults to port + 1. */
  rtcpPort?: number;
  payloadType: number;
  /** e.g. 'VP8', 'H264', 'opus' */
  codecName: string;
  clockRate: number;
  channels?: number;
  fmtp?: string;
}

/** Builds the SDP an ffmpeg RTP receiver reads (`-f sdp -i file`). Pure. */
export function buildReceiveSdp(streams: RtpReceiveStream[], address = '127.0.0.1'): string {
  const lines = ['v=0', `o=- 0 0 IN IP4 ${address}`, 's=roomcast', `c=IN IP4 ${address}`, 't=0 0'];
  for (const s of streams) {
    lines.push(`m=${s.kind} ${s.port} RTP/AVP ${s.payloadType}`);
    lines.push(`a=rtcp:${s.rtcpPort ?? s.port + 1}`);
    lines.push(
      `a=rtpmap:${s.payloadType} ${s.codecName}/${s.clockRate}${s.channels && s.channels > 1 ? `/${s.channels}` : ''}`,
    );
    if (s.fmtp) lines.push(`a=fmtp:${s.payloadType} ${s.fmtp}`);
    lines.push('a=recvonly');
  }
  return lines.join('\r\n') + '\r\n';
}

/** The receive description of a mediasoup consumer's first codec, for buildReceiveSdp. */
export function consumerReceiveStream(
  consumer: Pick<ms.Consumer, 'kind' | 'rtpParameters'>,
  port: number,
  rtcpPort = port + 1,
): RtpReceiveStream {
  const codec = consumer.rtpParameters.codecs[0];
  if (!codec) throw new Error('consumer has no codec');
  const fmtp = Object.entries(codec.parameters ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(';');
  return {
    kind: consumer.kind,
    port,
    rtcpPort,
    payloadType: codec.payloadType,
    codecName: codec.mimeType.split('/')[1] ?? codec.mimeType,
    clockRate: codec.clockRate,
    channels: codec.channels,
    fmtp: fmtp || undefined,
  };
}
