//! A reader worker: parses files for the pipeline's worker (see `stedi_app::reader`).

fn main() {
    stedi_app::reader::start();
}
