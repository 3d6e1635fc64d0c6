//! Every meeting route in one place: the API (with its documentation) and the pages.

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post, put};

use super::api::{
    AttendanceView, CheckinBody, CheckinView, DeviceBody, DeviceView, LeaveBody, LeaveView, MeetingBody,
    MeetingView, QrView, UnresolvedCardView, cadence, plan, records, seats,
};
use super::{api, pages};
use crate::contract;
use crate::routes::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r
    // meetings, leave, check-in, attendance, devices
        .api(
        "post",
        "/api/v1/meetings",
        "meetings",
        "Plan a meeting: org_id, kind, title, starts_at, ends_at, venue",
        post(api::create),
        )
        .takes::<MeetingBody>().answers::<MeetingView>()
        .api(
        "get",
        "/api/v1/meetings/{id}",
        "meetings",
        "The meeting, with status planned, open or closed",
        get(api::get_one),
        )
        .answers::<MeetingView>()
        .api(
        "post",
        "/api/v1/meetings/{id}/leaves",
        "meetings",
        "Record an approved leave: person_id, reason",
        post(api::record_leave),
        )
        .takes::<LeaveBody>().answers::<LeaveView>()
        .api(
        "post",
        "/api/v1/meetings/{id}/close",
        "meetings",
        "Close the meeting: attendance becomes read-only",
        post(api::close),
        )
        .answers::<MeetingView>()
        .api(
        "post",
        "/api/v1/meetings/{id}/checkins",
        "meetings",
        "One check-in/presence event (idempotent by event_id)",
        post(api::checkin),
        )
        .takes::<CheckinBody>().answers::<CheckinView>()
        .api(
        "get",
        "/api/v1/meetings/{id}/qr",
        "meetings",
        "The current rotating QR token for self check-in (15-second windows)",
        get(api::qr),
        )
        .answers::<QrView>()
        .api(
        "get",
        "/api/v1/me/qr",
        "meetings",
        "The caller's personal QR code (60 s windows): staff post it as person_token to check them in",
        get(api::my_qr),
        )
        .answers::<QrView>()
        .api(
        "get",
        "/api/v1/meetings/{id}/stream",
        "meetings",
        "Live check-ins (Server-Sent Events); Last-Event-ID replays what was missed",
        get(api::stream),
        )
        .answers_file(contract::EVENT_STREAM)
        .api(
        "get",
        "/api/v1/meetings/{id}/attendance",
        "meetings",
        "Attendance counts and each expected person's state (guests listed, not counted)",
        get(api::attendance),
        )
        .answers::<AttendanceView>()
        .api(
        "get",
        "/api/v1/meetings/{id}/unresolved-cards",
        "meetings",
        "Cards read at the door that matched nobody expected or invited",
        get(api::unresolved_cards),
        )
        .answers_list::<UnresolvedCardView>()
        .api(
        "post",
        "/api/v1/devices",
        "meetings",
        "Register a check-in device: name, kind, org_id; returns its bearer token",
        post(api::create_device),
        )
        .takes::<DeviceBody>().answers::<DeviceView>()
    // planning: lists, edits, notices, series, invitees, leave requests
        .api(
            "get",
            "/api/v1/meetings",
            "meetings",
            "Meetings in the caller's scope: org, subtree, from, to (local dates), status (planned, open, closed, cancelled), limit, offset",
            get(api::plan::list),
        )
        .answers_list::<plan::PlanView>()
        .api(
            "patch",
            "/api/v1/meetings/{id}",
            "meetings",
            "Change title, venue, host, recorder, agenda, wall_title, wall_text (null clears) while not closed",
            patch(api::plan::update),
        )
        .takes::<plan::PlanPatchBody>().answers::<plan::PlanView>()
        .api(
            "get",
            "/api/v1/meetings/{id}/plan",
            "meetings",
            "The meeting with host, recorder, agenda, series, cancellation, wall text, invitees (and leave requests for meeting staff)",
            get(api::plan::get_plan),
        )
        .answers::<plan::PlanDetailView>()
        .api(
            "post",
            "/api/v1/meetings/{id}/notice",
            "meetings",
            "Send the meeting's notice to every attendee who has none yet",
            post(api::plan::notice),
        )
        .answers::<plan::NoticesSent>()
        .api(
            "post",
            "/api/v1/meetings/{id}/cancel",
            "meetings",
            "Cancel a meeting nobody has checked in to: reason; attendees are notified",
            post(api::plan::cancel),
        )
        .takes::<plan::CancelBody>().answers::<plan::PlanView>()
        .api(
            "post",
            "/api/v1/meetings/{id}/reschedule",
            "meetings",
            "Move a meeting nobody has checked in to: starts_at, ends_at, venue; attendees are notified",
            post(api::plan::reschedule),
        )
        .takes::<plan::RescheduleBody>().answers::<plan::PlanView>()
        .api(
            "post",
            "/api/v1/meeting-series",
            "meetings",
            "Plan a series: org_id, kind, title, starts_at, ends_at (first meeting), venue, every (week, month), count (2-24)",
            post(api::plan::create_series),
        )
        .takes::<plan::SeriesBody>().answers::<plan::SeriesView>()
        .api(
            "get",
            "/api/v1/meetings/{id}/invitees",
            "meetings",
            "Invited guests and 列席 people (not counted in expected)",
            get(api::plan::invitees),
        )
        .answers_list::<plan::InviteeView>()
        .api(
            "post",
            "/api/v1/meetings/{id}/invitees",
            "meetings",
            "Invite a person: person_id, role (guest, attendee_extra = 列席)",
            post(api::plan::invite),
        )
        .takes::<plan::InviteBody>().answers::<plan::InvitationView>()
        .api(
            "delete",
            "/api/v1/meetings/{id}/invitees/{person_id}",
            "meetings",
            "Withdraw an invitation",
            delete(api::plan::uninvite),
        )
        .answers::<plan::NoContent>()
        .api(
            "get",
            "/api/v1/meetings/{id}/leave-requests",
            "meetings",
            "Members' leave requests, pending first",
            get(api::plan::leave_requests),
        )
        .answers_list::<plan::LeaveRequestView>()
        .api(
            "post",
            "/api/v1/meetings/{id}/leave-requests",
            "meetings",
            "Ask for leave (the logged-in member, for themself): reason",
            post(api::plan::request_leave),
        )
        .takes::<plan::LeaveRequestBody>().answers::<LeaveView>()
        .api(
            "post",
            "/api/v1/leave-requests/{id}/approve",
            "meetings",
            "Approve a pending leave request (recorded as leave for attendance): note",
            post(api::plan::approve_leave),
        )
        .takes::<plan::DecideBody>().answers::<plan::LeaveRequestView>()
        .api(
            "post",
            "/api/v1/leave-requests/{id}/refuse",
            "meetings",
            "Refuse a pending leave request: note",
            post(api::plan::refuse_leave),
        )
        .takes::<plan::DecideBody>().answers::<plan::LeaveRequestView>()
        .api(
            "get",
            "/api/v1/me/meetings",
            "meetings",
            "The caller's meetings: upcoming and past with their own state and leave request, and notices",
            get(api::plan::my_meetings),
        )
        .answers::<plan::MyMeetingsView>()
    // 三会一课 cadence
    .api(
            "get",
            "/api/v1/orgs/{id}/cadence",
            "meetings",
            "三会一课 cadence on date (default today): each obligation done, due, due_soon or overdue, for the org and each org below it",
            get(api::cadence::cadence),
        )
        .answers::<cadence::CadenceView>()
    // records: minutes, decisions, attachments, amendments, exports
    .api(
            "get",
            "/api/v1/meetings/{id}/minutes",
            "meetings",
            "The minutes, 决议 items, host, recorder, agenda and attachments; editable until close",
            get(api::records::get_minutes),
        )
        .answers::<records::MinutesPageView>()
        .api(
            "put",
            "/api/v1/meetings/{id}/minutes",
            "meetings",
            "Write the minutes and decisions (before close; after close → 409, amend instead)",
            put(api::records::put_minutes),
        )
        .takes::<records::MinutesBody>().answers::<records::MinutesView>()
        .api(
            "get",
            "/api/v1/meetings/{id}/amendments",
            "meetings",
            "Amendments made after close: minutes or one person's attendance, with reasons",
            get(api::records::list_amendments),
        )
        .answers_list::<records::AmendmentView>()
        .api(
            "post",
            "/api/v1/meetings/{id}/amendments",
            "meetings",
            "Amend a closed meeting: target minutes (minutes, decisions) or attendance (person_id, state, late); reason required",
            post(api::records::amend),
        )
        .takes::<records::AmendBody>().answers::<records::AmendmentView>()
        .api(
            "get",
            "/api/v1/meetings/{id}/attachments",
            "meetings",
            "The meeting's attachments",
            get(api::records::list_attachments),
        )
        .answers_list::<records::AttachmentView>()
        .api(
            "post",
            "/api/v1/meetings/{id}/attachments",
            "meetings",
            "Upload an attachment (multipart file; ≤ 10 MiB; pdf, png, jpeg, docx, xlsx, txt by content)",
            post(api::records::upload).layer(DefaultBodyLimit::max(api::records::ATTACHMENT_MAX_BYTES + 64 * 1024)),
        )
        .takes_file(contract::MULTIPART).answers::<records::AttachmentView>()
        .api(
            "get",
            "/api/v1/meetings/{id}/attachments/{attachment_id}",
            "meetings",
            "Download an attachment",
            get(api::records::download),
        )
        .answers_file(records::ANY_FILE)
        .api(
            "delete",
            "/api/v1/meetings/{id}/attachments/{attachment_id}",
            "meetings",
            "Remove an attachment (before close)",
            delete(api::records::remove),
        )
        .answers::<plan::NoContent>()
        .api(
            "get",
            "/api/v1/meetings/{id}/attendance/detail",
            "meetings",
            "Attendance with org, check-in time and method, leave time, leave reason and amendment marks",
            get(api::records::detail),
        )
        .answers::<records::DetailView>()
        .api(
            "get",
            "/api/v1/meetings/{id}/attendance.xlsx",
            "meetings",
            "Attendance lists as Excel: 汇总, 应到, 请假, 已签, 未签, 迟到, 早退",
            get(api::records_xlsx::attendance_xlsx),
        )
        .answers_file(contract::XLSX)
        .api(
            "get",
            "/api/v1/orgs/{id}/ledger",
            "meetings",
            "The 会议记录 register of the org and the orgs below it for year (default this year)",
            get(api::records::ledger),
        )
        .answers_list::<records::LedgerItemView>()
        .api(
            "get",
            "/api/v1/orgs/{id}/ledger.xlsx",
            "meetings",
            "The year's 会议台账 as Excel: time, kind, title, venue, host, recorder and the counts of each meeting",
            get(api::records_xlsx::ledger_xlsx),
        )
        .answers_file(contract::XLSX)
        .api(
            "get",
            "/api/v1/members/{id}/attendance",
            "meetings",
            "A member's attendance history, newest first",
            get(api::records::member_history),
        )
        .answers_list::<records::HistoryView>()
    // seats
    .api(
            "get",
            "/api/v1/orgs/{id}/seat-plans",
            "meetings",
            "The org's seat plans per venue",
            get(api::seats::plans),
        )
        .answers_list::<seats::SeatPlanView>()
        .api(
            "put",
            "/api/v1/orgs/{id}/seat-plans",
            "meetings",
            "Create or replace the seat plan of a venue: venue, rows, seats_per_row, blocks [{name, from_seat, to_seat}], reserved [{row, from_seat, to_seat, purpose: presidium|attendee}]",
            put(api::seats::put_plan),
        )
        .takes::<seats::SeatPlanBody>().answers::<seats::SeatPlanView>()
        .api(
            "get",
            "/api/v1/meetings/{id}/seats",
            "meetings",
            "The meeting's seat plan (its venue's) and seats, each with its label (第3排12座)",
            get(api::seats::seats),
        )
        .answers::<seats::SeatsView>()
        .api(
            "put",
            "/api/v1/meetings/{id}/seats",
            "meetings",
            "Assign seats: assignments [{person_id, row, seat}] by hand, and/or auto (by org, then name pinyin; 列席 seats for guests)",
            put(api::seats::assign),
        )
        .takes::<seats::AssignBody>().answers::<seats::SeatsView>()
    // pages
        .page("/meetings", get(pages::list::list))
            .page("/meetings/new", get(pages::list::new_form).post(pages::list::create))
            .page("/meetings/{id}", get(pages::show::show))
            .page("/meetings/{id}/edit", post(pages::show::edit))
            .page("/meetings/{id}/wall-text", post(pages::show::wall_text))
            .page("/meetings/{id}/notice", post(pages::show::notice))
            .page("/meetings/{id}/close", post(pages::show::close))
            .page("/meetings/{id}/cancel", post(pages::show::cancel))
            .page("/meetings/{id}/reschedule", post(pages::show::reschedule))
            .page(
                "/meetings/{id}/leave-requests/{rid}/{decision}",
                post(pages::show::decide),
            )
            .page("/meetings/{id}/invitees", post(pages::show::invite))
            .page("/meetings/{id}/invitees/{person_id}/remove", post(pages::show::uninvite))
            .page("/meetings/{id}/leave", post(pages::show::record_leave))
            .page("/meetings/{id}/checkin", get(pages::checkin::page))
            .page("/meetings/{id}/wall", get(pages::wall::page))
            .page("/my/meetings", get(pages::my::list))
            .page("/my/meetings/{id}", get(pages::my::show))
            .page("/my/meetings/{id}/leave", post(pages::my::ask_leave))
            .page("/qr.svg", get(pages::qr_svg))
    .page("/meetings/{id}/ledger", get(pages::ledger::ledger))
            .page(
                "/meetings/{id}/seats",
                get(pages::seats::page).post(pages::seats::submit),
            )
            .page("/meetings/{id}/signin-sheet", get(pages::ledger::signin_sheet))
            .page("/orgs/{id}/ledger", get(pages::ledger::ledger_list))
            .page("/orgs/{id}/cadence", get(pages::cadence::page))
            .page(
                "/meetings/{id}/minutes",
                get(pages::minutes::page).post(pages::minutes::submit),
            )
            .page(
                "/meetings/{id}/attachments",
                axum::routing::post(pages::minutes::upload).layer(axum::extract::DefaultBodyLimit::max(
                    crate::meeting::api::records::ATTACHMENT_MAX_BYTES + 64 * 1024,
                )),
            )
            .page("/members/{id}/attendance", get(pages::ledger::member_attendance))
}
