// A reader worker that stops (its code fails) loses nothing: the files it was reading fail
// with the reason and, added again, are read by the others; a download it owed a part of
// fails with the reason and, asked again, is written without it, with stedi run's bytes.
import { test, expect } from "@playwright/test";
import { readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import {
  partsOf,
  ZONES,
  downloadOf,
  expectBytes,
  filesUnder,
  generated,
  loadFiles,
  open,
  openLarge,
  press,
  shownCounts,
  stediRun,
  waitForZones,
} from "./helpers.mjs";

const SALT = "readers-salt";

/** The page's reader workers, once each is listening for files. */
async function readers(page) {
  const listening = async () => {
    const all = page.workers().filter((w) => w.url().endsWith("/reader.js"));
    const ready = await Promise.all(all.map((w) => w.evaluate(() => typeof self.onmessage === "function")));
    return ready.every(Boolean) ? all : [];
  };
  await expect.poll(async () => (await listening()).length, { timeout: 30_000 }).toBeGreaterThan(1);
  return listening();
}

/** Makes `reader` fail on the next message it is sent, as a fault in its code would. */
async function breakReader(reader) {
  await reader.evaluate(() => {
    self.onmessage = () => {
      throw new Error("injected failure");
    };
  });
}

for (const [stopped, by] of [
  ["one reader", "the other readers"],
  ["every reader", "the pipeline worker"],
]) {
  test(`files ${stopped} stopped reading fail with the reason and, added again, are read by ${by}`, async ({
    page,
  }) => {
    const inputs = filesUnder(generated(1, 11)).filter((p) => p.endsWith(".json"));
    const errors = await open(page);
    await page.getByTestId("salt").fill(SALT);
    await page.getByTestId("salt").press("Enter");
    const all = await readers(page);
    for (const reader of stopped === "one reader" ? all.slice(0, 1) : all) await breakReader(reader);
    await loadFiles(page, inputs);

    // The files dealt to the stopped reader say why they were not read.
    const failed = await page.evaluate(() =>
      [...document.querySelectorAll("[data-testid=file-row]")]
        .filter((row) => row.nextElementSibling?.textContent.includes("a worker reading files stopped"))
        .map((row) => row.dataset.name),
    );
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(inputs.length);
    await expect(page.getByTestId("file-problems").first()).toContainText("injected failure");
    await expect(page.getByTestId("file-problems").first()).toContainText("remove the file and add it again");

    // Removed and added again, they are read again: the zones are stedi run's.
    for (const name of failed) await press(page, page.getByRole("button", { name: `Remove ${name}` }));
    await page.getByTestId("file-input").setInputFiles(inputs.filter((p) => failed.includes(basename(p))));
    await waitForZones(page);
    const working = stopped === "one reader" ? all.length - 1 : 0;
    await expect(page.getByTestId("throughput")).toHaveAttribute("data-readers", String(working));
    const audit = JSON.parse(readFileSync(join(stediRun(["--salt", SALT], inputs), "audit.json"), "utf8"));
    const want = Object.fromEntries(ZONES.map((z) => [z, audit.zones[z].rows]));
    await expect.poll(() => shownCounts(page), { timeout: 60_000 }).toEqual(want);
    await expect(page.getByTestId("file-problems")).toHaveCount(0);
    // The injected failure is the only error.
    expect(errors.filter((e) => !e.includes("injected failure"))).toEqual([]);
  });
}

test("a download a stopped reader owed a part of fails with the reason and, asked again, is written without it", async ({
  page,
}) => {
  test.setTimeout(180_000);
  const { inputs, errors, rows } = await openLarge(page, SALT);
  const all = await readers(page);
  await breakReader(all[0]);

  const jsonl = page.getByTestId("download-machine_learning_curated-jsonl").first();
  await press(page, jsonl);
  const notice = page.getByTestId("notice");
  await expect(notice).toContainText("a worker reading files stopped", { timeout: 60_000 });
  await expect(notice).toContainText("injected failure");
  await expect(notice).toContainText("ask for it again");
  await expect(page.getByTestId("preparing")).toBeHidden();
  await expect(page.getByTestId("saved-download")).toHaveCount(0);

  const download = await downloadOf(page, jsonl);
  const expected = readFileSync(join(stediRun(["--salt", SALT, "--format", "jsonl"], inputs), "machine_learning_curated.jsonl"));
  await expectBytes(download, expected);
  const saved = page.getByTestId("saved-download");
  await expect(saved).toHaveCount(1);
  await expect(saved).toHaveAttribute("data-bytes", String(statSync(await download.path()).size));
  // The readers still working (the pipeline worker only cuts the pieces).
  await expect(saved).toHaveAttribute("data-parts", String(partsOf(rows, all.length - 1)));
  await expect(saved).toHaveAttribute("data-workers", String(all.length - 1));
  // The injected failure is the only error.
  expect(errors.filter((e) => !e.includes("injected failure"))).toEqual([]);
});
