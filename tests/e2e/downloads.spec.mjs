// 2. The machine_learning_curated download, in each format, with a salt typed into the
//    page, is byte-identical to `stedi run` with the same policy and salt; so is the audit,
//    for files hashed by the browser whole and for a file too large for that; and the zip
//    of everything holds every file `stedi run` writes, with its bytes; so does a
//    machine_learning_curated large enough to be written in parts by the readers at once,
//    with downloads asked for meanwhile coming in the order asked.
import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { downloadOf, expectBytes, filesUnder, generated, loadFiles, open, openLarge, partsOf, press, stediRun, tempDir } from "./helpers.mjs";

const SALT = "reviewed-salt-42";

/** Records in `window.preparingSeen` what the page says while downloads are made, however briefly. */
async function watchPreparing(page) {
  await page.evaluate(() => {
    window.preparingSeen = [];
    new MutationObserver(() => {
      const status = document.querySelector("[data-testid=preparing]");
      if (status) window.preparingSeen.push(`${status.getAttribute("role")}: ${status.textContent}`);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

test("machine_learning_curated downloads equal stedi run's files", async ({ page }) => {
  const inputs = filesUnder(generated());
  const errors = await open(page);
  await page.getByTestId("salt").fill(SALT);
  await page.getByTestId("salt").press("Enter");
  await loadFiles(page, inputs);
  for (const format of ["jsonl", "csv", "parquet"]) {
    const expected = readFileSync(
      join(stediRun(["--salt", SALT, "--format", format], inputs), `machine_learning_curated.${format}`),
    );
    const download = await downloadOf(page, page.getByTestId(`download-machine_learning_curated-${format}`).first());
    expect(download.suggestedFilename()).toBe(`machine_learning_curated.${format}`);
    await expectBytes(download, expected);
  }
  // The audit too (it describes the zones as JSON Lines, the page's default): its inputs'
  // SHA-256 are the browser's own.
  const expected = readFileSync(join(stediRun(["--salt", SALT, "--format", "jsonl"], inputs), "audit.json"));
  const download = await downloadOf(page, page.getByTestId("download-audit"));
  expect(download.suggestedFilename()).toBe("audit.json");
  expect(readFileSync(await download.path(), "utf8")).toBe(expected.toString("utf8"));
  expect(errors).toEqual([]);
});

test("a file too large to hash in one piece is read in chunks, with the same audit", async ({ page }) => {
  test.setTimeout(180_000);
  // Over the 64 MiB up to which the browser hashes a file whole: the accelerometer files
  // of a generated set, one after the other, repeated.
  const dir = generated();
  const readings = filesUnder(join(dir, "accelerometer"))
    .map((f) => readFileSync(f, "utf8").trimEnd())
    .join("\n");
  const big = join(dir, "accelerometer-large.json");
  writeFileSync(big, Array(12).fill(readings).join("\n") + "\n");
  expect(statSync(big).size).toBeGreaterThan(64 * 1024 * 1024);
  const inputs = [...filesUnder(join(dir, "customer")), big, ...filesUnder(join(dir, "step_trainer"))];
  const errors = await open(page);
  await page.getByTestId("salt").fill(SALT);
  await page.getByTestId("salt").press("Enter");
  await loadFiles(page, inputs);
  const expected = readFileSync(join(stediRun(["--salt", SALT, "--format", "jsonl"], inputs), "audit.json"), "utf8");
  const download = await downloadOf(page, page.getByTestId("download-audit"));
  expect(readFileSync(await download.path(), "utf8")).toBe(expected);
  expect(errors).toEqual([]);
});

test("the zip of everything holds stedi run's files, each with its bytes", async ({ page }) => {
  const inputs = filesUnder(generated());
  const errors = await open(page);
  await page.getByTestId("salt").fill(SALT);
  await page.getByTestId("salt").press("Enter");
  await loadFiles(page, inputs);
  await page.getByTestId("zip-format").selectOption("csv");
  await watchPreparing(page);
  const download = await downloadOf(page, page.getByTestId("download-everything"));
  expect(download.suggestedFilename()).toBe("stedi-lakehouse.zip");
  const seen = await page.evaluate(() => window.preparingSeen);
  expect(seen[0]).toMatch(/^status: Preparing stedi-lakehouse\.zip/);
  for (const text of seen) expect(text).toMatch(/^status: Preparing stedi-lakehouse\.zip(: writing \S+ \(\d+ of 11\))?…$/);
  await expect(page.getByTestId("preparing")).toBeHidden();
  // Python's zipfile, a reader of its own, checks each entry's CRC as it extracts.
  const unzipped = tempDir("stedi-zip-");
  const script = "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; z.extractall(sys.argv[2])";
  execFileSync("python3", ["-c", script, await download.path(), unzipped]);
  const expected = stediRun(["--salt", SALT, "--format", "csv"], inputs);
  const names = readdirSync(expected).sort();
  expect(names.length).toBe(11);
  expect(readdirSync(unzipped).sort()).toEqual(names);
  for (const name of names) {
    const got = readFileSync(join(unzipped, name));
    expect(got.equals(readFileSync(join(expected, name))), name).toBe(true);
  }
  expect(errors).toEqual([]);
});

test("a large machine_learning_curated is written in parts by the readers at once, as stedi run writes it", async ({
  page,
}) => {
  test.setTimeout(180_000);
  const { inputs, errors, rows } = await openLarge(page, SALT);
  await watchPreparing(page);
  // Three downloads asked at once: the JSON Lines are written in parts (once the CSV,
  // made ahead of any click, is written); the CSV and the quarantine wait for them. Each
  // comes, in the order asked, with stedi run's bytes.
  const got = [];
  page.on("download", (d) => got.push(d));
  await press(page, page.getByTestId("download-machine_learning_curated-jsonl").first());
  await press(page, page.getByTestId("download-machine_learning_curated-csv").first());
  await press(page, page.getByTestId("download-quarantine"));
  await expect.poll(() => got.length, { timeout: 60_000 }).toBe(3);
  const names = ["machine_learning_curated.jsonl", "machine_learning_curated.csv", "quarantine.jsonl"];
  expect(got.map((d) => d.suggestedFilename())).toEqual(names);
  for (const [i, format] of ["jsonl", "csv", "jsonl"].entries()) {
    const expected = readFileSync(join(stediRun(["--salt", SALT, "--format", format], inputs), names[i]));
    const bytes = readFileSync(await got[i].path());
    expect(bytes.length, names[i]).toBe(expected.length);
    expect(bytes.equals(expected), names[i]).toBe(true);
  }
  // The CSV was made right after the run and the JSON Lines when asked, each cut into
  // parts written by every reader at once; the page lists each as made.
  const readers = Number(await page.getByTestId("throughput").getAttribute("data-readers"));
  expect(readers).toBeGreaterThan(0);
  const saved = page.getByTestId("saved-download");
  await expect(saved).toHaveCount(3);
  const parts = partsOf(rows, readers);
  for (const [i, [name, parts_, workers, text]] of [
    [names[0], parts, readers, `${parts} parts written by ${readers} workers at once`],
    [names[1], parts, readers, `made right after the run, ${parts} parts written by ${readers} workers at once, ready when asked`],
    [names[2], 1, 1, ""],
  ].entries()) {
    const item = saved.nth(i);
    await expect(item).toHaveAttribute("data-name", name);
    await expect(item).toHaveAttribute("data-bytes", String(statSync(await got[i].path()).size));
    await expect(item).toHaveAttribute("data-parts", String(parts_));
    await expect(item).toHaveAttribute("data-workers", String(workers));
    await expect(item).toContainText(`${name}: `);
    await expect(item).toContainText(text);
  }
  // Whatever the status showed while they were made named them in turn (how far the parts
  // were shows only when the page draws a frame before the last part is in).
  const seen = await page.evaluate(() => window.preparingSeen);
  for (const text of seen) {
    expect(text).toMatch(
      /^status: Preparing (machine_learning_curated\.jsonl|machine_learning_curated\.csv|quarantine\.jsonl)(: \d+ of \d+ parts written)?…( \(\d+ more after it\))?$/,
    );
  }
  await expect(page.getByTestId("preparing")).toBeHidden();
  expect(errors).toEqual([]);
});

test("the CSV asked for while it is made ahead comes once its parts are written, as stedi run writes it", async ({
  page,
}) => {
  test.setTimeout(180_000);
  const { inputs, errors, rows } = await openLarge(page, SALT);
  // Clicked as soon as the results show: the readers are still writing it (or, on a fast
  // machine, have just finished); either way it comes with stedi run's bytes.
  const download = await downloadOf(page, page.getByTestId("download-machine_learning_curated-csv").first());
  const expected = readFileSync(join(stediRun(["--salt", SALT, "--format", "csv"], inputs), "machine_learning_curated.csv"));
  await expectBytes(download, expected);
  const readers = Number(await page.getByTestId("throughput").getAttribute("data-readers"));
  const item = page.getByTestId("saved-download");
  await expect(item).toHaveAttribute("data-parts", String(partsOf(rows, readers)));
  await expect(item).toHaveAttribute("data-workers", String(readers));
  await expect(item.first()).toContainText(`${partsOf(rows, readers)} parts written by ${readers} workers at once`);
  // Asked again, it is the one already made.
  const again = await downloadOf(page, page.getByTestId("download-machine_learning_curated-csv").first());
  expect(readFileSync(await again.path()).equals(expected)).toBe(true);
  await expect(item).toHaveCount(2);
  await expect(item.nth(1)).toContainText("made right after the run");
  await expect(item.nth(1)).toContainText("ready when asked");
  expect(errors).toEqual([]);
});

test("a policy changed while the CSV is made ahead gives the CSV of the new policy", async ({ page }) => {
  test.setTimeout(180_000);
  const { inputs, errors, rows } = await openLarge(page, SALT);
  // At once, while the readers write the CSV of the first run.
  await press(page, page.getByTestId("preset-rubric"), "Space");
  await expect(page.getByTestId("preset-rubric")).toBeChecked();
  const out = stediRun(["--salt", SALT, "--preset", "rubric", "--format", "csv"], inputs);
  const rubricRows = JSON.parse(readFileSync(join(out, "audit.json"), "utf8")).zones.machine_learning_curated.rows;
  expect(rubricRows).not.toBe(rows);
  await expect(page.getByTestId("zone-machine_learning_curated").first()).toHaveAttribute("data-rows", String(rubricRows));
  const download = await downloadOf(page, page.getByTestId("download-machine_learning_curated-csv").first());
  const expected = readFileSync(join(out, "machine_learning_curated.csv"));
  await expectBytes(download, expected);
  expect(errors).toEqual([]);
});
