/** Growable parallel arrays of pairs of record indices. */
export class PairBuffer {
  left = new Int32Array(1024);
  right = new Int32Array(1024);
  length = 0;

  push(left: number, right: number): void {
    if (this.length === this.left.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.left = grow(this.left);
      this.right = grow(this.right);
    }
    this.left[this.length] = left;
    this.right[this.length] = right;
    this.length++;
  }
}
