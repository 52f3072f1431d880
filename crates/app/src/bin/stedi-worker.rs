//! The web worker: a thin shell over stedi-core (see `stedi_app::worker`).

fn main() {
    stedi_app::worker::start();
}
