import { MNEMONICODE_WORDS } from "./mnemonicode-words.js";

/**
 * Mnemonicode for exactly 64 bits, the RFC 19 "words" job id encoding, written from the
 * algorithm in flux-core src/common/libutil/mnemonic.c as flux-core applies it to a fluid:
 * the id's 8 bytes in little-endian order (the x86 layout flux-core reads) form two 32-bit
 * groups, low group first; each group is 3 base-1626 digits, least significant first; the
 * format "x-x-x--" puts "-" between words and "--" between groups.
 */

const BASE = 1626;
const WORDS_PER_GROUP = 3;
const GROUP_MAX = 0xffff_ffff;

const wordIndex = new Map<string, number>(MNEMONICODE_WORDS.map((word, i) => [word, i]));

// Six words, each separated by one or two dashes: flux-core's decoder takes any separators,
// but anything else here is more likely a typo than an id. Tested before lowercasing, because
// toLowerCase() maps a few non-ASCII letters (the Kelvin sign) to ASCII ones.
const WORDS_SHAPE = /^[a-z]+(?:--?[a-z]+){5}$/i;

function encodeGroup(x: number): string {
  const words: string[] = [];
  for (let i = 0; i < WORDS_PER_GROUP; i++) {
    words.push(MNEMONICODE_WORDS[x % BASE] as string);
    x = Math.floor(x / BASE);
  }
  return words.join("-");
}

/** Encodes a 64-bit unsigned id as "w-w-w--w-w-w". The caller checks the range. */
export function encodeMnemonicode(id: bigint): string {
  const low = Number(id & 0xffff_ffffn);
  const high = Number(id >> 32n);
  return `${encodeGroup(low)}--${encodeGroup(high)}`;
}

/**
 * Decodes six words (case-insensitive) back to the id, or returns undefined when the text is
 * not exactly six known words or a group's digits exceed 32 bits (about 0.09% of word triples
 * are such unused combinations).
 */
export function decodeMnemonicode(text: string): bigint | undefined {
  if (!WORDS_SHAPE.test(text)) return undefined;
  const digits: number[] = [];
  for (const word of text.toLowerCase().split(/-+/)) {
    const digit = wordIndex.get(word);
    if (digit === undefined) return undefined;
    digits.push(digit);
  }
  const groups: number[] = [];
  for (let g = 0; g < 2; g++) {
    const [d0, d1, d2] = digits.slice(g * WORDS_PER_GROUP, (g + 1) * WORDS_PER_GROUP) as [number, number, number];
    const x = d0 + d1 * BASE + d2 * BASE * BASE;
    if (x > GROUP_MAX) return undefined;
    groups.push(x);
  }
  const [low, high] = groups as [number, number];
  return (BigInt(high) << 32n) | BigInt(low);
}
