/** Per value code, the weight of an exact agreement on that value: log2(m_exact / frequency). */
export function termFrequencyWeights(codes: Int32Array, valueCount: number, mExact: number): Float64Array {
  const counts = new Int32Array(valueCount);
  let present = 0;
  for (let r = 0; r < codes.length; r++) {
    const code = codes[r]!;
    if (code < 0) continue;
    counts[code]!++;
    present++;
  }
  const weights = new Float64Array(valueCount);
  for (let v = 0; v < valueCount; v++) weights[v] = Math.log2((mExact * present) / counts[v]!);
  return weights;
}
