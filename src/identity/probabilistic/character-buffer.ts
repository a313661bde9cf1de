/** Strings laid end to end in one typed array: value `v` is `chars[offsets[v] .. offsets[v + 1])`. */
export interface CharacterBuffer {
  readonly chars: Uint16Array;
  readonly offsets: Int32Array;
}

export function characterBuffer(values: readonly string[]): CharacterBuffer {
  const offsets = new Int32Array(values.length + 1);
  for (let v = 0; v < values.length; v++) offsets[v + 1] = offsets[v]! + values[v]!.length;
  const chars = new Uint16Array(offsets[values.length]!);
  for (let v = 0; v < values.length; v++) {
    const value = values[v]!;
    const at = offsets[v]!;
    for (let i = 0; i < value.length; i++) chars[at + i] = value.charCodeAt(i);
  }
  return { chars, offsets };
}
