/// <reference types="svelte" />
/// <reference types="vite/client" />

declare module 'virtual:world-paths' {
  const paths: {
    width: number;
    height: number;
    rest: string;
    countries: Record<string, { d: string; x: number; y: number; marker: boolean }>;
  };
  export default paths;
}
