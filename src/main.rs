//! The `custimport` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    custimport::main()
}
