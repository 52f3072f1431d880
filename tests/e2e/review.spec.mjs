// The privacy review: lists to look through, report.html equal to stedi run's, and an
// audit.json checked against the files in the page.
import { test, expect } from "@playwright/test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { downloadOf, filesUnder, generated, loadFiles, open, press, reveal, stediRun } from "./helpers.mjs";

const SALT = "review-salt-7";

test("an audit from stedi run is verified in the page and the report is the same", async ({ page }) => {
  const inputs = filesUnder(generated(1, 11));
  const out = stediRun(["--salt", SALT, "--format", "parquet"], inputs);
  const errors = await open(page);
  await page.getByTestId("salt").fill(SALT);
  await page.getByTestId("salt").press("Enter");
  await loadFiles(page, [...inputs, join(out, "audit.json")]);
  await expect(page.getByTestId("verification")).toHaveAttribute("data-mismatches", "0");
  await expect(page.getByTestId("verification")).toContainText("match");

  await reveal(page, page.getByTestId("review-rules"));
  await page.getByTestId("report-format").selectOption("parquet");
  const download = await downloadOf(page, page.getByTestId("download-report"));
  expect(download.suggestedFilename()).toBe("report.html");
  expect(readFileSync(await download.path()).equals(readFileSync(join(out, "report.html")))).toBe(true);
  expect(errors).toEqual([]);
});

test("a tampered audit names the item that does not match", async ({ page }) => {
  const inputs = filesUnder(generated(1, 12));
  const out = stediRun(["--preset", "rubric"], inputs);
  const audit = JSON.parse(readFileSync(join(out, "audit.json"), "utf8"));
  audit.zones.customer_trusted.rows += 1;
  const tampered = join(out, "audit.json");
  writeFileSync(tampered, JSON.stringify(audit, null, 2));
  await open(page);
  await press(page, page.getByTestId("preset-rubric"), "Space");
  await expect(page.getByTestId("preset-rubric")).toBeChecked();
  await loadFiles(page, [...inputs, tampered]);
  await expect(page.getByTestId("verification")).toHaveAttribute("data-mismatches", "1");
  await expect(page.getByTestId("verification")).toContainText("zones.customer_trusted");
});

test("excluded customers can be searched and paged", async ({ page }) => {
  const errors = await open(page);
  await press(page, page.getByTestId("demo"));
  await expect(page.getByTestId("review-total")).toContainText("page 1 of");
  const total = page.getByTestId("review-total");
  await expect(page.getByTestId("review-prev")).toBeDisabled();
  await press(page, page.getByTestId("review-next"));
  await expect(total).toContainText("page 2 of");
  const firstEmail = await page.getByTestId("review-table").locator("tbody tr td").first().textContent();
  await page.getByTestId("review-search").fill(firstEmail);
  await expect(total).toHaveText("1 row(s), page 1 of 1");
  await expect(page.getByTestId("review-table").locator("tbody tr")).toHaveCount(1);
  await page.getByTestId("review-list").selectOption("ReadingsBeforeConsent");
  await page.getByTestId("review-search").fill("");
  await expect(page.getByTestId("review-table").locator("thead")).toContainText("readings before consent");
  expect(errors).toEqual([]);
});
