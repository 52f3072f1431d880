// End-to-end tests: the release site served from a sub-path, in Debian's headless Chromium.
import { defineConfig } from "@playwright/test";

const port = Number(process.env.STEDI_PORT ?? 8765);

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.mjs",
  outputDir: "artifacts/results",
  timeout: 120_000,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}/stedi-lakehouse/`,
    acceptDownloads: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: "node serve.mjs",
    url: `http://127.0.0.1:${port}/stedi-lakehouse/`,
    reuseExistingServer: false,
    timeout: 30_000,
  },
});
