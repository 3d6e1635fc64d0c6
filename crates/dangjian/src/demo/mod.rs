//! Demo data: a realistic organization tree with members, made up but valid, and a few months
//! of its meetings and dues.

mod dues;
pub mod generate;
mod live;
pub mod load;
mod meetings;

use dangjian_store::Store;

use generate::DemoTree;

/// The loaded tree: the store ids of its orgs and people, by index into the tree.
struct Loaded<'a> {
    store: &'a Store,
    tree: &'a DemoTree,
    orgs: &'a [i64],
    people: &'a [i64],
}
