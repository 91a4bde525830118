// Type declarations for the `nlp-corpus` package (it ships none): the embedded default corpus of `demo`.
declare module 'nlp-corpus' {
  const corpus: {
    /** every sentence (about 100k) */
    all(): string[];
    /** the first `n` sentences */
    some(n?: number): string[];
    /** `count` random sentences */
    random(count?: number): string[];
  };
  export default corpus;
}
