//! `cargo run -p remora-docgen [-- DIR]`: (re)writes remora's man pages and
//! shell completions under DIR (default: the repository's contrib/).

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(remora_docgen::repo_contrib);
    match remora_docgen::write_all(&dir) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
        }
        Err(e) => {
            eprintln!("remora-docgen: writing under {}: {e}", dir.display());
            std::process::exit(1);
        }
    }
}
