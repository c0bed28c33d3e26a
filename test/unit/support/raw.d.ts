// Vite's `?raw` imports: a module's source text, as a string.
declare module "*?raw" {
  const text: string;
  export default text;
}
