// 5. The demo data button yields non-empty zones. 6. Screenshots of the result view.
import { test, expect } from "@playwright/test";
import { join } from "node:path";
import { ARTIFACTS, ZONES, open, press, shownCounts, waitForZones } from "./helpers.mjs";

test("demo data yields non-empty zones, shown at desktop and phone widths", async ({ page }) => {
  const errors = await open(page);
  await press(page, page.getByTestId("demo"));
  await waitForZones(page);
  const counts = await shownCounts(page);
  for (const zone of ZONES) expect(counts[zone], zone).toBeGreaterThan(0);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(ARTIFACTS, "result-1280.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(ARTIFACTS, "result-390.png"), fullPage: true });
  // Nothing wider than the phone's screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  expect(errors).toEqual([]);
});

test("the page's rehearsal of a run, after it is drawn, leaves nothing on the page and fails nothing", async ({ page }) => {
  const errors = await open(page);
  const messages = [];
  page.on("console", (m) => messages.push(`${m.type()}: ${m.text()}`));
  // The rehearsal runs a task after the page is drawn; well within this.
  await page.waitForTimeout(2000);
  await expect(page.getByTestId("file-row")).toHaveCount(0);
  await expect(page.getByTestId("results")).toHaveCount(1);
  await expect(page.getByTestId("results")).toContainText("Load files (or the demo data) to build the zones.");
  await expect(page.getByTestId("featured")).toHaveCount(0);
  await expect(page.getByTestId("notice")).toHaveCount(0);
  expect(errors).toEqual([]);
  expect(messages.filter((m) => m.startsWith("error"))).toEqual([]);
  // And the page works as before.
  await press(page, page.getByTestId("demo"));
  await waitForZones(page);
  const counts = await shownCounts(page);
  for (const zone of ZONES) expect(counts[zone], zone).toBeGreaterThan(0);
});

test("the controls are reachable and usable from the keyboard", async ({ page }) => {
  await open(page);
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Choose files" })).toBeFocused();
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  await expect(page.getByTestId("demo")).toBeFocused();
  await page.keyboard.press("Enter");
  await waitForZones(page);
  await page.getByTestId("preset-rubric").focus();
  await page.keyboard.press("Space");
  await expect(page.getByTestId("preset-rubric")).toBeChecked();
  await expect(page.getByTestId("knob-ml-join")).toHaveValue("timestamp");
});
