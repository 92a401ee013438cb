import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` serves the UI with hot reload and forwards the API to a
// running `qun serve` (QUN_URL, default http://127.0.0.1:8080).
const api = process.env.QUN_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: { proxy: { "/v1": api, "/openapi.json": api, "/healthz": api } },
});
