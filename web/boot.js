// Loads the app. An external file because the page's Content-Security-Policy forbids
// inline scripts; relative URLs so the site runs from any sub-path.
import init from "./stedi-app.js";

await init({ module_or_path: new URL("./stedi-app_bg.wasm", import.meta.url) });
