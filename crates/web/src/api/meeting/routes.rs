//! Further meeting routes, registered with their documentation (see `crate::routes`): planning
//! (`plan.rs`).

// declared here (not in mod.rs) so the planning handlers live beside their routes
#[path = "plan.rs"]
pub(crate) mod plan;

use crate::routes::Routes;

pub(crate) fn add(r: Routes) -> Routes {
    use axum::routing::{delete, get, patch, post};
    // records (issue 5): cadence, minutes, attachments, amendments, exports, seats — each file
    // registers its own routes
    let r = super::cadence::add_cadence(r);
    let r = super::records::add_records(r);
    let r = super::seats::add_seats(r);
    r.api(
        "get",
        "/api/v1/meetings",
        "meetings",
        "Meetings in the caller's scope: org, subtree, from, to (local dates), status (planned, open, closed, cancelled), limit, offset",
        get(plan::list),
    )
    .api(
        "patch",
        "/api/v1/meetings/{id}",
        "meetings",
        "Change title, venue, host, recorder, agenda, wall_title, wall_text (null clears) while not closed",
        patch(plan::update),
    )
    .api(
        "get",
        "/api/v1/meetings/{id}/plan",
        "meetings",
        "The meeting with host, recorder, agenda, series, cancellation, wall text, invitees (and leave requests for meeting staff)",
        get(plan::get_plan),
    )
    .api(
        "post",
        "/api/v1/meetings/{id}/notice",
        "meetings",
        "Send the meeting's notice to every attendee who has none yet",
        post(plan::notice),
    )
    .api(
        "post",
        "/api/v1/meetings/{id}/cancel",
        "meetings",
        "Cancel a meeting nobody has checked in to: reason; attendees are notified",
        post(plan::cancel),
    )
    .api(
        "post",
        "/api/v1/meetings/{id}/reschedule",
        "meetings",
        "Move a meeting nobody has checked in to: starts_at, ends_at, venue; attendees are notified",
        post(plan::reschedule),
    )
    .api(
        "post",
        "/api/v1/meeting-series",
        "meetings",
        "Plan a series: org_id, kind, title, starts_at, ends_at (first meeting), venue, every (week, month), count (2-24)",
        post(plan::create_series),
    )
    .api(
        "get",
        "/api/v1/meetings/{id}/invitees",
        "meetings",
        "Invited guests and 列席 people (not counted in expected)",
        get(plan::invitees),
    )
    .api(
        "post",
        "/api/v1/meetings/{id}/invitees",
        "meetings",
        "Invite a person: person_id, role (guest, attendee_extra = 列席)",
        post(plan::invite),
    )
    .api(
        "delete",
        "/api/v1/meetings/{id}/invitees/{person_id}",
        "meetings",
        "Withdraw an invitation",
        delete(plan::uninvite),
    )
    .api(
        "get",
        "/api/v1/meetings/{id}/leave-requests",
        "meetings",
        "Members' leave requests, pending first",
        get(plan::leave_requests),
    )
    .api(
        "post",
        "/api/v1/meetings/{id}/leave-requests",
        "meetings",
        "Ask for leave (the logged-in member, for themself): reason",
        post(plan::request_leave),
    )
    .api(
        "post",
        "/api/v1/leave-requests/{id}/approve",
        "meetings",
        "Approve a pending leave request (recorded as leave for attendance): note",
        post(plan::approve_leave),
    )
    .api(
        "post",
        "/api/v1/leave-requests/{id}/refuse",
        "meetings",
        "Refuse a pending leave request: note",
        post(plan::refuse_leave),
    )
    .api(
        "get",
        "/api/v1/me/meetings",
        "meetings",
        "The caller's meetings: upcoming and past with their own state and leave request, and notices",
        get(plan::my_meetings),
    )
}
