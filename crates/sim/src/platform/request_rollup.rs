//! The business rules that move a request's `request_state` on, as a fresh instance's do
//! (servicenow.md 4.12): approving a request puts it in process, rejecting it closes it as
//! rejected, and once every requested item is closed the request closes too — complete when
//! every item closed complete (or skipped), incomplete otherwise.

use crate::db::store::Record;
use crate::platform::instance::Instance;

/// Task states that end a requested item: 3 Closed Complete, 4 Closed Incomplete, 7 Closed
/// Skipped.
const CLOSED: [&str; 3] = ["3", "4", "7"];

impl Instance {
    /// Runs the rules after `physical`'s record `sys_id` was updated with `changed` fields.
    pub(crate) fn roll_up_request(&mut self, physical: &str, sys_id: &str, changed: &[String]) {
        match physical {
            "sc_request" if changed.iter().any(|f| f == "approval") => {
                approval_changed(self, sys_id);
            }
            "sc_req_item" if changed.iter().any(|f| f == "state") => item_changed(self, sys_id),
            _ => {}
        }
    }
}

fn approval_changed(instance: &mut Instance, request: &str) {
    let Some(record) = instance.get("sc_request", request) else {
        return;
    };
    let next: &[(&str, &str)] = match record.get("approval").map(String::as_str) {
        Some("approved") => &[("request_state", "in_process"), ("state", "2")],
        Some("rejected") => &[("request_state", "closed_rejected"), ("state", "4")],
        _ => return,
    };
    set(instance, &record, request, next);
}

fn item_changed(instance: &mut Instance, item: &str) {
    let Some(request) = instance
        .get("sc_req_item", item)
        .and_then(|i| i.get("request").cloned())
        .filter(|r| !r.is_empty())
    else {
        return;
    };
    let states: Vec<String> = instance
        .query("sc_req_item", &format!("request={request}"))
        .iter()
        .map(|i| i.get("state").cloned().unwrap_or_default())
        .collect();
    if states.is_empty() || !states.iter().all(|s| CLOSED.contains(&s.as_str())) {
        return;
    }
    let complete = states.iter().all(|s| s != "4");
    let next: &[(&str, &str)] = if complete {
        &[("request_state", "closed_complete"), ("state", "3")]
    } else {
        &[("request_state", "closed_incomplete"), ("state", "4")]
    };
    if let Some(record) = instance.get("sc_request", &request) {
        set(instance, &record, &request, next);
    }
}

/// Sets `fields` on the request when any differs (so a rule never loops on its own write).
fn set(instance: &mut Instance, record: &Record, sys_id: &str, fields: &[(&str, &str)]) {
    let changes: Record = fields
        .iter()
        .filter(|(f, v)| record.get(*f).map(String::as_str) != Some(*v))
        .map(|(f, v)| ((*f).to_owned(), (*v).to_owned()))
        .collect();
    if !changes.is_empty() {
        let _ = instance.update("sc_request", sys_id, changes, "system");
    }
}
