// rxguardrails/regex: regexRail, on a linear-time engine (RE2's automata in plain JavaScript, browser-safe). Behind
// its own entry because the engine is 150 kB minified, more than the rest of the core: an app that does not run
// regexes in its own pipelines pays nothing for it (a config's `regex check` flow loads it when first needed).

export { regexRail, type RegexRailOptions } from '../rails/regexRail.js';
