// The charts render on the course data, sharp at a pixel ratio of 2, and download as PNG;
// the zone preview pages, sorts and finds a customer by email, explaining an exclusion.
import { test, expect } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ARTIFACTS, courseData, downloadOf, filesUnder, loadFiles, open, press } from "./helpers.mjs";

const CHARTS = ["funnel", "consent", "customer", "distance"];
const GREY = [170, 170, 170];

test.use({ deviceScaleFactor: 2, viewport: { width: 1200, height: 900 } });

/** Pixels of a canvas that are not white, pixels of `colour`, and distinct colours. */
async function ink(page, id, colour = GREY) {
  return page.getByTestId(`canvas-${id}`).evaluate((canvas, colour) => {
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let inked = 0;
    let matching = 0;
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      if (r < 250 || g < 250 || b < 250) inked += 1;
      if (r === colour[0] && g === colour[1] && b === colour[2]) matching += 1;
      colours.add((r << 16) | (g << 8) | b);
    }
    return {
      inked,
      matching,
      colours: colours.size,
      pixels: canvas.width * canvas.height,
      width: canvas.width,
      cssWidth: canvas.clientWidth,
      ratio: window.devicePixelRatio,
    };
  }, colour);
}

async function courseLoaded(page) {
  const data = courseData();
  test.skip(!data, "SKIPPED: set STEDI_COURSE_DATA to the course data folder to run it");
  const errors = await open(page);
  await loadFiles(page, filesUnder(data).filter((f) => f.endsWith(".json")));
  return errors;
}

test("every chart draws on the course data, at the screen's pixel density", async ({ page }) => {
  // Console errors include Content-Security-Policy violations (text measuring, say).
  const consoleErrors = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  const errors = await courseLoaded(page);
  for (const id of CHARTS) {
    // Charts are drawn once they come near the screen.
    await page.getByTestId(`chart-${id}`).scrollIntoViewIfNeeded();
    await expect(page.getByTestId(`drawn-${id}`)).toContainText("Drawn in", { timeout: 30_000 });
    const seen = await ink(page, id);
    expect(seen.ratio).toBe(2);
    expect(seen.width).toBe(Math.round(seen.cssWidth * 2));
    // Not blank: axes, labels and data take far more than 1% of the pixels, in several colours.
    expect(seen.inked, `${id} has ink`).toBeGreaterThan(seen.pixels / 100);
    expect(seen.colours, `${id} has colours`).toBeGreaterThan(4);
    await page.getByTestId(`chart-${id}`).screenshot({ path: join(ARTIFACTS, `chart-${id}.png`) });
  }
  await expect(page.getByTestId("customer-status")).toContainText("In machine_learning_curated");
  await expect(page.getByTestId("chart-distance")).toBeVisible();
  expect(errors).toEqual([]);
  expect(consoleErrors).toEqual([]);
});

test("a customer with readings before consent shows them greyed", async ({ page }) => {
  const errors = await courseLoaded(page);
  await page.getByTestId("review-list").selectOption("ReadingsBeforeConsent");
  const email = await page.getByTestId("review-table").locator("tbody tr td").first().textContent();
  await page.getByTestId("customer-search").fill(email);
  await page.getByTestId("customer-search").press("Enter");
  await page.getByTestId("chart-customer").scrollIntoViewIfNeeded();
  await expect(page.locator("[data-testid=canvas-customer]")).toHaveAttribute("aria-label", /excluded in grey/);
  await expect
    .poll(async () => (await ink(page, "customer")).matching, { message: "grey (excluded) readings" })
    .toBeGreaterThan(50);
  await page.getByTestId("chart-customer").screenshot({ path: join(ARTIFACTS, "chart-customer-excluded.png") });

  await page.getByTestId("customer-search").fill("nobody-at-all@nowhere");
  await press(page, page.getByTestId("customer-show"));
  await expect(page.getByTestId("customer-status")).toContainText("no customer's email or serial number contains");
  expect(errors).toEqual([]);
});

test("a chart downloads as a PNG", async ({ page }) => {
  const errors = await open(page);
  await press(page, page.getByTestId("demo"));
  await page.getByTestId("chart-funnel").scrollIntoViewIfNeeded({ timeout: 60_000 });
  await expect(page.getByTestId("drawn-funnel")).toContainText("Drawn in", { timeout: 60_000 });
  const download = await downloadOf(page, page.getByTestId("png-funnel"));
  expect(download.suggestedFilename()).toBe("stedi-funnel.png");
  const png = readFileSync(await download.path());
  expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  // The PNG has the canvas's full backing size (IHDR width at byte 16).
  const { width } = await ink(page, "funnel");
  expect(png.readUInt32BE(16)).toBe(width);
  expect(errors).toEqual([]);
});

test("the zone preview pages, sorts, and finds an excluded customer by email", async ({ page }) => {
  const errors = await courseLoaded(page);
  const total = page.getByTestId("preview-total");
  const rows = page.getByTestId("preview-table").locator("tbody tr");
  await page.getByTestId("preview-zone").selectOption("accelerometer_landing");
  await expect(total).toHaveText("81,273 of 81,273 rows, page 1 of 813");
  await expect(rows).toHaveCount(100);
  await expect(page.getByTestId("preview-prev")).toBeDisabled();
  await press(page, page.getByTestId("preview-next"));
  await expect(total).toContainText("page 2 of 813");

  await press(page, page.getByTestId("preview-sort-timestamp"));
  await expect(total).toContainText("page 1 of 813");
  await expect(page.getByTestId("preview-sort-timestamp")).toContainText("▲");
  const times = (await rows.locator("td:nth-child(2)").allTextContents()).map(Number);
  expect(times).toEqual([...times].sort((a, b) => a - b));
  await press(page, page.getByTestId("preview-sort-timestamp"));
  await expect(page.getByTestId("preview-sort-timestamp")).toContainText("▼");
  // The header changes at once; the rows when the worker has sorted them.
  await expect
    .poll(async () => Number(await rows.locator("td:nth-child(2)").first().textContent()))
    .toBeGreaterThan(times[times.length - 1]);
  const down = (await rows.locator("td:nth-child(2)").allTextContents()).map(Number);
  expect(down).toEqual([...down].sort((a, b) => b - a));

  // A customer without consent: in customer_landing, not in customer_trusted, and why.
  await page.getByTestId("review-list").selectOption("ExcludedCustomers");
  const email = await page.getByTestId("review-table").locator("tbody tr td").first().textContent();
  await page.getByTestId("preview-zone").selectOption("customer_landing");
  await page.getByTestId("preview-search").fill(email);
  await expect(total).toContainText(/^[1-9]\d* of 956 rows/);
  await expect(rows.first()).toContainText(email);
  await page.getByTestId("preview-zone").selectOption("customer_trusted");
  await expect(total).toContainText("0 of 482 rows");
  await expect(page.getByTestId("preview-notes")).toContainText(`${email} is not in customer_trusted:`);
  await page.getByTestId("preview").screenshot({ path: join(ARTIFACTS, "preview-excluded.png") });
  expect(errors).toEqual([]);
});
