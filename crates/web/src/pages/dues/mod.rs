//! The dues pages.

use crate::routes::Routes;

pub fn add_routes(r: Routes) -> Routes {
    r
}
