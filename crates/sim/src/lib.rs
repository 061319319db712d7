//! snowlink-sim: a stateful ServiceNow simulator. It shares no code with `snowlink-core` on
//! purpose, so that a misreading of ServiceNow in one is caught by the other.
