// Shared steps of the end-to-end specs.
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ZONES = [
  "customer_landing",
  "accelerometer_landing",
  "step_trainer_landing",
  "customer_trusted",
  "accelerometer_trusted",
  "customer_curated",
  "step_trainer_trusted",
  "machine_learning_curated",
];

export const ARTIFACTS = join(import.meta.dirname, "artifacts");

// Folders made for generated files and stedi run's outputs, removed when the test process
// ends (a whole run of the specs leaves gigabytes otherwise).
const made = [];
process.on("exit", () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new empty folder under the system's temporary folder, removed at the end. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** The `stedi` binary built by cargo. */
export const STEDI = resolve(process.env.STEDI_BIN ?? join(import.meta.dirname, "../../target/debug/stedi"));

/** The course data folder, or null when STEDI_COURSE_DATA is not set. */
export function courseData() {
  const dir = process.env.STEDI_COURSE_DATA;
  return dir ? resolve(join(import.meta.dirname, "../.."), dir) : null;
}

/** Every file below a folder, sorted. */
export function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

/** Expects the download to hold exactly the bytes `expected` (their count first, which
 * says more when they differ). */
export async function expectBytes(download, expected) {
  const got = readFileSync(await download.path());
  expect(got.length).toBe(expected.length);
  expect(got.equals(expected)).toBe(true);
}

/** A fresh `stedi gen` landing set. */
export function generated(scale = 1, seed = 5) {
  const dir = tempDir("stedi-gen-");
  execFileSync(STEDI, ["gen", "--scale", String(scale), "--seed", String(seed), "--out", dir]);
  return dir;
}

/** Runs `stedi run` and returns its output folder. */
export function stediRun(args, inputs) {
  const out = tempDir("stedi-out-");
  execFileSync(STEDI, ["run", ...args, "--out", out, ...inputs]);
  return out;
}

/** Opens the page and fails the test on any uncaught page error. */
export async function open(page) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("./");
  await expect(page.getByTestId("app-name")).toBeVisible();
  return errors;
}

/** Loads files through the file input and waits for the zones. */
export async function loadFiles(page, paths) {
  await page.getByTestId("file-input").setInputFiles(paths);
  await waitForZones(page);
}

/** Waits until a run has finished and no file is being read. */
export async function waitForZones(page) {
  await expect(page.getByTestId("featured")).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId("progress")).toBeHidden({ timeout: 90_000 });
}

/** The row counts the page shows, by zone. */
export async function shownCounts(page) {
  const counts = {};
  for (const zone of ZONES) {
    counts[zone] = Number(await page.getByTestId(`zone-${zone}`).first().getAttribute("data-rows"));
  }
  return counts;
}

/**
 * Whether the page draws frames. Headless Chromium at times stops drawing a page's frames
 * (its requestAnimationFrame callbacks never run) while the page still runs, and
 * Playwright's click waits for two frames to see its target hold still.
 */
async function drawsFrames(page) {
  return page.evaluate(
    () =>
      new Promise((resolve) => {
        requestAnimationFrame(() => resolve(true));
        setTimeout(() => resolve(false), 2000);
      }),
  );
}

/**
 * Runs `action`. When it fails because the page draws no frames, runs `instead` and notes
 * `what` was done so in the test's annotations; any other failure fails the test.
 */
async function unlessNoFrames(page, action, what, instead) {
  try {
    await action();
  } catch (e) {
    if (await drawsFrames(page)) throw e;
    const hidden = await page.evaluate(() => document.visibilityState);
    const description = `${what}: the page drew no frames (visibility ${hidden})`;
    test.info().annotations.push({ type: "no frames", description });
    console.warn(description);
    await instead();
  }
}

/**
 * Clicks `target`. When the click cannot happen because the page draws no frames, presses
 * `key` on it instead (Enter for a button, Space for a radio button or a checkbox), as a
 * keyboard user would.
 */
export async function press(page, target, key = "Enter") {
  await unlessNoFrames(
    page,
    () => target.click({ timeout: 15_000 }),
    `${target} pressed from the keyboard`,
    async () => {
      await target.focus();
      await page.keyboard.press(key);
    },
  );
}

/**
 * Scrolls `target` into view. When that cannot happen because the page draws no frames
 * (Playwright waits for frames to see the target hold still), scrolls it into view from
 * the page's script instead.
 */
export async function reveal(page, target) {
  await unlessNoFrames(
    page,
    () => target.scrollIntoViewIfNeeded({ timeout: 15_000 }),
    `${target} scrolled into view from the page's script`,
    () => target.evaluate((el) => el.scrollIntoView({ block: "center" })),
  );
}

/**
 * Clicks `target` and returns the download it starts. When none starts, fails with what
 * the page shows then (downloads being made, downloads made, notices), which tells a
 * click the page never took from a download the worker made and the browser did not
 * start.
 */
export async function downloadOf(page, target, timeout = 60_000) {
  const started = page.waitForEvent("download", { timeout }).catch(() => null);
  await press(page, target);
  const download = await started;
  if (download) return download;
  const shown = await page.evaluate(() => {
    const texts = (id) => [...document.querySelectorAll(`[data-testid=${id}]`)].map((e) => e.textContent);
    return { preparing: texts("preparing"), saved: texts("saved-download"), notices: texts("notice") };
  });
  throw new Error(`no download started within ${timeout} ms of clicking ${target}; the page shows ${JSON.stringify(shown)}`);
}

/** Rows of machine_learning_curated in one part of a download shared by the workers, at most. */
export const PART_ROWS = 65536;

/**
 * The parts of a download of `rows` rows shared by `workers`: as few as parts of at most
 * PART_ROWS rows allow, rounded up to a multiple of the workers, of nearly equal size.
 */
export function partsOf(rows, workers) {
  const parts = Math.ceil(Math.ceil(rows / PART_ROWS) / workers) * workers;
  return Math.ceil(rows / Math.ceil(rows / parts));
}

/**
 * Opens the page with `salt` and loads a `stedi gen --scale 6` set: more rows of
 * machine_learning_curated than two parts, so that a download of it is shared with the
 * readers. Returns the inputs, the page's errors and those rows.
 */
export async function openLarge(page, salt) {
  const inputs = filesUnder(generated(6));
  const errors = await open(page);
  await page.getByTestId("salt").fill(salt);
  await page.getByTestId("salt").press("Enter");
  await loadFiles(page, inputs);
  const rows = Number(await page.getByTestId("zone-machine_learning_curated").first().getAttribute("data-rows"));
  expect(rows).toBeGreaterThan(2 * PART_ROWS);
  return { inputs, errors, rows };
}
