// 3. Every request the page makes, from load to the last download, goes to its own origin.
import { test, expect } from "@playwright/test";
import { downloadOf, open, press, waitForZones } from "./helpers.mjs";

test("no request leaves the page's origin", async ({ page, baseURL }) => {
  const origin = new URL(baseURL).origin;
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("worker", (w) => requests.push(w.url()));
  await open(page);
  await press(page, page.getByTestId("demo"));
  await waitForZones(page);
  for (const id of ["download-everything", "download-audit"]) {
    const download = await downloadOf(page, page.getByTestId(id));
    await download.path();
  }
  expect(requests.length).toBeGreaterThan(3);
  const foreign = requests.filter((u) => !u.startsWith(origin + "/") && !u.startsWith("blob:" + origin));
  expect(foreign).toEqual([]);
});
