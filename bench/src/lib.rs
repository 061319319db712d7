//! Benchmarks of the simulator live in `benches/`; this library is empty on purpose.
