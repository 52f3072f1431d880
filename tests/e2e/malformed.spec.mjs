// 4. A malformed file shows its quarantine count and reasons; the other files still work.
import { test, expect } from "@playwright/test";
import { open, waitForZones } from "./helpers.mjs";

const customers = [
  '{"email":"a@x.com","serialNumber":"s1","lastUpdateDate":1,"shareWithResearchAsOfDate":1}',
  '{"email":"b@x.com","serialNumber":"s2","lastUpdateDate":1}',
].join("\n");
const steps = [
  '{"sensorReadingTime":5,"serialNumber":"s1","distanceFromObject":200}',
  '{"sensorReadingTime":"soon","serialNumber":"s1","distanceFromObject":200}',
  "not json at all",
  '{"sensorReadingTime":6,"serialNumber":"s1"}',
  '{"sensorReadingTime":7,"serialNumber":"s1","distanceFromObject":201}',
].join("\r\n");
const phone = '{"user":"a@x.com","timestamp":5,"x":0,"y":1,"z":0}\n';

test("a malformed file is quarantined record by record, the rest still works", async ({ page }) => {
  const errors = await open(page);
  await page.getByTestId("file-input").setInputFiles([
    { name: "customers.json", mimeType: "application/json", buffer: Buffer.from(customers) },
    { name: "steps-damaged.json", mimeType: "application/json", buffer: Buffer.from(steps) },
    { name: "phone.json", mimeType: "application/json", buffer: Buffer.from(phone) },
  ]);
  await waitForZones(page);
  const row = page.locator('[data-testid="file-row"][data-name="steps-damaged.json"]');
  await expect(row.getByTestId("accepted")).toHaveText("2");
  await expect(row.getByTestId("quarantined")).toHaveText("3");
  const problems = page.getByTestId("file-problems");
  await expect(problems).toContainText("field 'sensorReadingTime' is a string, expected an integer");
  await expect(problems).toContainText("missing required field 'distanceFromObject'");
  await expect(problems).toContainText("invalid JSON");
  await expect(page.getByTestId("quarantine")).toHaveAttribute("data-total", "3");
  await expect(page.getByTestId("count-customer_trusted").first()).toHaveText("1");
  await expect(page.getByTestId("count-machine_learning_curated").first()).toHaveText("1");
  expect(errors).toEqual([]);
});
