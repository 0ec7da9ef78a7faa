import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The console is served under /console/ by the local gateway and by CloudFront. The CSP there is
// script-src 'self' and style-src 'self': the build must emit only external files (no inline
// <script> or <style> blocks, no data: module preload polyfill).
export default defineConfig({
  base: '/console/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    chunkSizeWarningLimit: 1024,
  },
});
