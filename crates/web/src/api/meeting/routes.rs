//! Further meeting routes, registered with their documentation (see `crate::routes`).

use crate::routes::Routes;

pub(crate) fn add(r: Routes) -> Routes {
    r
}
