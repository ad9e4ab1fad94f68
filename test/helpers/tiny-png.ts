/** A valid 1×1 PNG: an author's own picture in tests, or a committed image's pixels in benchmarks. */
export const TINY_PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8ffff3f0005fe02fea7d6a4500000000049454e44ae426082',
  'hex',
);
