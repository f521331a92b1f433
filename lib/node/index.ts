// rxguardrails/node: what needs Node (the file system).
export { RailsConfig } from './RailsConfig.js';
