//! The `custimport` binary: everything lives in the library.

/// The pipeline allocates many small, short-lived strings per row; mimalloc serves them at a
/// fraction of glibc malloc's cost (measured in BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    custimport::main()
}
