export { JournalError, replayJournal, type ReplayOptions, type ReplayResult } from "./reader";
export { JournalWriter, type JournalWriterOptions, type SyncMode } from "./writer";
