/** Test payloads that carry their sequence number and a pattern derived from it. */
export function fillPayload(buf: Buffer, seq: number): void {
  buf.writeUInt32LE(seq >>> 0, 0);
  for (let i = 4; i < buf.length; i++) buf[i] = (seq + i) & 0xff;
}

/** Null when `data` is message `want`, else what is wrong. */
export function checkPayload(data: Buffer, want: number): string | null {
  if (data.length < 4) return `payload of ${data.length} bytes`;
  const seq = data.readUInt32LE(0);
  if (seq !== want) return `sequence ${seq}, expected ${want}`;
  for (let i = 4; i < data.length; i++) if (data[i] !== ((seq + i) & 0xff)) return `byte ${i} of message ${seq} is ${data[i]}`;
  return null;
}
