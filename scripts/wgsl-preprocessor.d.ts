// Types for wgsl-preprocessor, which ships none (used by scripts/build-shaders.js).
declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  /** The tag: `#if ${flag}` … `#elif ${flag}` … `#else` … `#endif` over the template's holes. */
  export function wgsl(strings: TemplateStringsArray, ...values: unknown[]): string;
}
