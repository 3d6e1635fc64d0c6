//! Payments: recorded by hand by the branch's collector (cash, transfer; 代缴 by another person,
//! 补交 of back months, voluntary extras with the 大额党费 flag), or online through an order a
//! payment provider settles with a signed callback. Settling is idempotent: the order keeps the
//! answer it gave, and a replay gets it again and changes nothing.

use dangjian_rules::dues::ledger::{self, back_pay_warning, format_ym, is_large_voluntary, ym};
use dangjian_rules::{RuleViolation, dues_rules_on};
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use crate::Dues;
use crate::audit::Actor;
use crate::db::Tx;
use crate::error::{StoreError, StoreResult};
use crate::scope::Scope;

pub use dangjian_rules::dues::{PayMethod, PaymentKind};

/// A payment as stored.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Payment {
    pub id: i64,
    pub person_id: i64,
    pub payer_person_id: Option<i64>,
    pub payer_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub kind: PaymentKind,
    #[sqlx(try_from = "String")]
    pub method: PayMethod,
    pub amount_fen: i64,
    /// 大额党费: a one-off voluntary payment of 1000 元 or more, all to 中央.
    pub large: bool,
    /// The months paid, `YYYY-MM` comma-separated (regular payments).
    pub months: String,
    pub paid_on: Date,
    pub order_id: Option<i64>,
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

const PAYMENT_COLS: &str = "id, person_id, payer_person_id, payer_name, kind, method, amount_fen, large, months, \
    paid_on, order_id, note, recorded_at";

/// A payment recorded by hand. `months` (as `yyyymm` keys) for regular dues; `voluntary_fen` for a
/// voluntary extra instead. `payer_*` record 代缴 (someone else paid for the member).
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub person_id: i64,
    pub method: PayMethod,
    pub months: Vec<i64>,
    pub amount_fen: Option<i64>,
    pub voluntary: bool,
    pub payer_person_id: Option<i64>,
    pub payer_name: Option<String>,
    pub paid_on: Option<Date>,
    pub note: Option<String>,
    pub confirmed: bool,
}

#[derive(Clone, Copy, sqlx::FromRow)]
pub(crate) struct DueBill {
    pub id: i64,
    pub year: i64,
    pub month: i64,
    pub amount_fen: i64,
    pub relief_fen: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct MemberBrief {
    pub id: i64,
    pub org_path: String,
    #[sqlx(try_from = "String")]
    pub category: dangjian_rules::member::PersonCategory,
}

/// The person, if the scope sees them (else 404).
pub(crate) async fn member_in(tx: &mut Tx, scope: &Scope, person_id: i64) -> StoreResult<MemberBrief> {
    let p: Option<MemberBrief> = with_tx!(tx, c => sqlx::query_as(
        "SELECT id, org_path, category FROM person WHERE id = $1").bind(person_id).fetch_optional(c).await)?;
    match p {
        Some(p) if scope.sees_person(p.id, &p.org_path) => Ok(p),
        _ => Err(StoreError::NotFound),
    }
}

/// The member's due bills for `months`; a month without a due bill → 422 naming it.
async fn due_bills(tx: &mut Tx, person_id: i64, months: &[i64]) -> StoreResult<Vec<DueBill>> {
    let all: Vec<DueBill> = with_tx!(tx, c => sqlx::query_as(
        "SELECT id, year, month, amount_fen, relief_fen FROM dues_bill WHERE person_id = $1 AND status = 'due' \
         ORDER BY year, month").bind(person_id).fetch_all(c).await)?;
    let mut out = Vec::new();
    for &m in months {
        match all.iter().find(|b| ym(b.year, b.month) == m) {
            Some(b) => out.push(*b),
            None => {
                return Err(RuleViolation::field("dues_month_not_due", "months")
                    .arg("month", format_ym(m))
                    .into());
            }
        }
    }
    Ok(out)
}

/// Sorted, without repeats; none → 422 `field_required` on `months`.
fn normalize_months(mut months: Vec<i64>) -> StoreResult<Vec<i64>> {
    months.sort_unstable();
    months.dedup();
    if months.is_empty() {
        return Err(RuleViolation::field("field_required", "months").into());
    }
    Ok(months)
}

/// What settling bills writes: the payment row, the bills marked paid.
struct Settle<'a> {
    person: &'a MemberBrief,
    payer_person_id: Option<i64>,
    payer_name: Option<String>,
    kind: PaymentKind,
    method: PayMethod,
    amount_fen: i64,
    large: bool,
    bills: &'a [DueBill],
    paid_on: Date,
    order_id: Option<i64>,
    note: Option<String>,
    /// Warnings the user confirmed (补交 beyond the usual months), for the audit record.
    confirmed: Vec<&'static str>,
}

async fn insert_payment(
    tx: &mut Tx,
    now: OffsetDateTime,
    actor: &Actor,
    s: Settle<'_>,
) -> StoreResult<Payment> {
    let months: Vec<String> = s.bills.iter().map(|b| format_ym(ym(b.year, b.month))).collect();
    let id: i64 = with_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO dues_payment (person_id, org_path, payer_person_id, payer_name, kind, method, amount_fen, large, \
         months, month_count, paid_on, order_id, note, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id")
        .bind(s.person.id).bind(&s.person.org_path).bind(s.payer_person_id).bind(&s.payer_name).bind(s.kind.as_str())
        .bind(s.method.as_str()).bind(s.amount_fen).bind(s.large).bind(months.join(","))
        .bind(i64::try_from(months.len()).unwrap_or(0)).bind(s.paid_on).bind(s.order_id).bind(&s.note)
        .bind(actor.user_id).bind(now).fetch_one(c).await)?;
    for b in s.bills {
        with_tx!(tx, c => sqlx::query(
            "UPDATE dues_bill SET status = 'paid', payment_id = $1, paid_at = $2 WHERE id = $3 AND status = 'due'")
            .bind(id).bind(now).bind(b.id).execute(c).await.map(|r| r.rows_affected()))?;
    }
    let sql = format!("SELECT {PAYMENT_COLS} FROM dues_payment WHERE id = $1");
    let p: Payment = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(c).await)?;
    tx.audit(actor, now)
        .on("create", "dues_payment", id, &s.person.org_path)
        .after(json!({
            "person_id": p.person_id, "payer_person_id": p.payer_person_id, "payer_name": p.payer_name,
            "kind": p.kind, "method": p.method, "amount_fen": p.amount_fen, "large": p.large,
            "months": p.months, "paid_on": p.paid_on.to_string(), "order_id": p.order_id,
            "confirmed_warnings": s.confirmed,
        }))
        .append()
        .await?;
    Ok(p)
}

/// An online payment order: what the provider is asked to collect.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DuesOrder {
    pub id: i64,
    pub order_no: String,
    pub provider: String,
    pub person_id: i64,
    pub payer_person_id: Option<i64>,
    pub amount_fen: i64,
    pub months: String,
    #[sqlx(try_from = "String")]
    pub status: dangjian_rules::dues::OrderStatus,
    pub payment_id: Option<i64>,
    #[serde(skip)]
    pub answer: Option<String>,
}

const ORDER_COLS: &str =
    "id, order_no, provider, person_id, payer_person_id, amount_fen, months, status, payment_id, answer";

/// A provider's callback once its signature has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderCallback {
    pub order_no: String,
    pub amount_fen: i64,
    pub txn_id: String,
}

impl Dues<'_> {
    /// Records a payment made by hand (cash or transfer) by the branch's collector.
    pub async fn record_dues_payment(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: NewPayment,
    ) -> StoreResult<Payment> {
        let today = self.today();
        let rs = dues_rules_on(today)?;
        let (mut tx, now) = self.begin_now().await?;
        let person = member_in(&mut tx, scope, new.person_id).await?;
        let payer_person_id = new.payer_person_id.filter(|&p| p != person.id);
        if let Some(payer) = payer_person_id {
            let known: Option<i64> = with_tx!(&mut tx, c => sqlx::query_scalar(
                "SELECT id FROM person WHERE id = $1").bind(payer).fetch_optional(c).await)?;
            if known.is_none() {
                return Err(RuleViolation::field("dues_payer_unknown", "payer_person_id")
                    .arg("value", payer)
                    .into());
            }
        }
        let paid_on = new.paid_on.unwrap_or(today);
        let mut confirmed = Vec::new();
        let day_key = |d: Date| {
            (
                ym(i64::from(d.year()), i64::from(u8::from(d.month()))),
                i64::from(d.day()),
            )
        };
        if new.voluntary {
            ledger::check_paid_on(day_key(paid_on), day_key(today), None)?;
        }
        let (kind, amount, large, bills) = if new.voluntary {
            if !new.months.is_empty() {
                return Err(RuleViolation::field("dues_voluntary_without_months", "months").into());
            }
            let amount = match new.amount_fen {
                Some(a) if a > 0 => a,
                _ => return Err(RuleViolation::field("dues_amount_positive", "amount_fen").into()),
            };
            (
                PaymentKind::Voluntary,
                amount,
                is_large_voluntary(rs, amount),
                Vec::new(),
            )
        } else {
            let months = normalize_months(new.months)?;
            ledger::check_paid_on(day_key(paid_on), day_key(today), months.first().copied())?;
            let bills = due_bills(&mut tx, person.id, &months).await?;
            let total: i64 = bills.iter().map(|b| b.amount_fen - b.relief_fen).sum();
            if let Some(a) = new.amount_fen
                && a != total
            {
                return Err(RuleViolation::field("dues_amount_mismatch", "amount_fen")
                    .arg("given", ledger_yuan(a))
                    .arg("due", ledger_yuan(total))
                    .into());
            }
            if total <= 0 {
                return Err(RuleViolation::field("dues_nothing_to_pay", "months").into());
            }
            let current = ym(i64::from(today.year()), i64::from(u8::from(today.month())));
            if let Some(w) = months
                .first()
                .and_then(|&oldest| back_pay_warning(rs, current, oldest))
            {
                if !new.confirmed {
                    return Err(StoreError::ConfirmationRequired(vec![w]));
                }
                confirmed.push(w.code);
            }
            (PaymentKind::Regular, total, false, bills)
        };
        let payment = insert_payment(
            &mut tx,
            now,
            actor,
            Settle {
                person: &person,
                payer_person_id,
                payer_name: new.payer_name.filter(|n| !n.trim().is_empty()),
                kind,
                method: new.method,
                amount_fen: amount,
                large,
                bills: &bills,
                paid_on,
                order_id: None,
                note: new.note,
                confirmed,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(payment)
    }

    /// A member's payments of `year` (by payment date), newest first.
    pub async fn payments_of(&self, person_id: i64, year: i64) -> StoreResult<Vec<Payment>> {
        let from = Date::from_ordinal_date(i32::try_from(year).unwrap_or(2008), 1)
            .map_err(|_| RuleViolation::field("year_invalid", "year"))?;
        let until = Date::from_ordinal_date(i32::try_from(year + 1).unwrap_or(2009), 1)
            .map_err(|_| RuleViolation::field("year_invalid", "year"))?;
        let sql = format!(
            "SELECT {PAYMENT_COLS} FROM dues_payment WHERE person_id = $1 AND paid_on >= $2 AND paid_on < $3 \
             ORDER BY id DESC"
        );
        Ok(with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(person_id).bind(from).bind(until).fetch_all(p).await)?)
    }

    /// Opens an online payment order for the member's due `months` (the member themselves, or
    /// someone paying for them: 代缴). The amount is what the bills leave due.
    pub async fn create_dues_order(
        &self,
        scope: &Scope,
        actor: &Actor,
        person_id: i64,
        payer_person_id: Option<i64>,
        months: Vec<i64>,
        provider: &str,
    ) -> StoreResult<DuesOrder> {
        let months = normalize_months(months)?;
        let (mut tx, now) = self.begin_now().await?;
        let person = member_in(&mut tx, scope, person_id).await?;
        let bills = due_bills(&mut tx, person.id, &months).await?;
        let total: i64 = bills.iter().map(|b| b.amount_fen - b.relief_fen).sum();
        if total <= 0 {
            return Err(RuleViolation::field("dues_nothing_to_pay", "months").into());
        }
        let order_no = format!("DJ{}", hex::encode(crate::keys::random_bytes::<12>()));
        let list: Vec<String> = months.iter().map(|&m| format_ym(m)).collect();
        let payer = payer_person_id.filter(|&p| p != person.id);
        with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO dues_order (order_no, provider, person_id, payer_person_id, org_path, amount_fen, months, \
             status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9)")
            .bind(&order_no).bind(provider).bind(person.id).bind(payer).bind(&person.org_path).bind(total)
            .bind(list.join(",")).bind(actor.user_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        let order = order_by_no(&mut tx, &order_no)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.into_audit(actor, now)
            .on("create", "dues_order", order.id, &person.org_path)
            .after(
                json!({"order_no": order.order_no, "provider": provider, "person_id": person.id,
                    "payer_person_id": payer, "amount_fen": total, "months": order.months}),
            )
            .commit()
            .await?;
        Ok(order)
    }

    /// An order by its number, for the provider's pay page (no scope: the number is the secret
    /// the provider was given).
    pub async fn dues_order(&self, order_no: &str) -> StoreResult<DuesOrder> {
        let sql = format!("SELECT {ORDER_COLS} FROM dues_order WHERE order_no = $1");
        let o: Option<DuesOrder> = with_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(order_no).fetch_optional(p).await)?;
        o.ok_or(StoreError::NotFound)
    }

    /// Settles an order from a verified provider callback, once: the payment, the bills paid, the
    /// answer kept on the order. A replay of the same callback gets the same answer and changes
    /// nothing; another transaction for a settled order → 409; a wrong amount → 422.
    pub async fn settle_dues_order(&self, provider: &str, cb: &ProviderCallback) -> StoreResult<Value> {
        let (mut tx, now) = self.begin_now().await?;
        let order = match order_by_no(&mut tx, &cb.order_no).await? {
            Some(o) if o.provider == provider => o,
            _ => {
                return Err(RuleViolation::field("dues_order_unknown", "order_no")
                    .arg("value", &cb.order_no)
                    .into());
            }
        };
        if order.status == dangjian_rules::dues::OrderStatus::Paid {
            return replayed(&mut tx, &order, cb).await;
        }
        if cb.amount_fen != order.amount_fen {
            return Err(
                RuleViolation::field("dues_callback_amount_mismatch", "amount_fen")
                    .arg("given", ledger_yuan(cb.amount_fen))
                    .arg("due", ledger_yuan(order.amount_fen))
                    .into(),
            );
        }
        // claim the order first: a concurrent settlement of the same order waits on this row
        // (PostgreSQL) and then finds it paid; on SQLite the write lock already serializes them
        let claimed = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE dues_order SET status = 'paid', provider_txn = $1, paid_at = $2 WHERE id = $3 AND status = 'pending'")
            .bind(&cb.txn_id).bind(now).bind(order.id).execute(c).await.map(|r| r.rows_affected()))?;
        if claimed == 0 {
            let again = order_by_no(&mut tx, &cb.order_no)
                .await?
                .ok_or(StoreError::NotFound)?;
            return replayed(&mut tx, &again, cb).await;
        }
        let person = member_in(&mut tx, &Scope::system(), order.person_id).await?;
        let months: Vec<i64> = order
            .months
            .split(',')
            .filter_map(|m| ledger::parse_ym("months", m).ok())
            .collect();
        // bills settled meanwhile (by hand) stay as they are; the others are paid by this order
        let due: Vec<DueBill> = with_tx!(&mut tx, c => sqlx::query_as(
            "SELECT id, year, month, amount_fen, relief_fen FROM dues_bill WHERE person_id = $1 AND status = 'due'")
            .bind(person.id).fetch_all(c).await)?;
        let bills: Vec<DueBill> = due
            .into_iter()
            .filter(|b| months.contains(&ym(b.year, b.month)))
            .collect();
        let actor = Actor::system(&format!("payment:{provider}"));
        let today = self.today();
        let payment = insert_payment(
            &mut tx,
            now,
            &actor,
            Settle {
                person: &person,
                payer_person_id: order.payer_person_id,
                payer_name: None,
                kind: PaymentKind::Regular,
                method: PayMethod::Online,
                amount_fen: order.amount_fen,
                large: false,
                bills: &bills,
                paid_on: today,
                order_id: Some(order.id),
                note: Some(format!("{provider} {}", cb.txn_id)),
                confirmed: Vec::new(),
            },
        )
        .await?;
        let answer = json!({"order_no": order.order_no, "status": "paid", "payment_id": payment.id,
            "amount_fen": order.amount_fen});
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE dues_order SET payment_id = $1, answer = $2 WHERE id = $3")
            .bind(payment.id).bind(answer.to_string()).bind(order.id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(answer)
    }
}

/// The answer to a callback for an order already paid: the same as the first time for the same
/// transaction; another transaction → 409.
async fn replayed(tx: &mut Tx, order: &DuesOrder, cb: &ProviderCallback) -> StoreResult<Value> {
    let txn: Option<String> = with_tx!(tx, c => sqlx::query_scalar(
        "SELECT provider_txn FROM dues_order WHERE id = $1").bind(order.id).fetch_one(c).await)?;
    if txn.as_deref() != Some(cb.txn_id.as_str()) || order.amount_fen != cb.amount_fen {
        return Err(StoreError::Conflict(RuleViolation::new(
            "dues_order_already_paid",
        )));
    }
    let answer = order.answer.as_deref().unwrap_or("{}");
    serde_json::from_str(answer).map_err(|e| StoreError::Internal(e.into()))
}

async fn order_by_no(tx: &mut Tx, order_no: &str) -> StoreResult<Option<DuesOrder>> {
    let sql = format!("SELECT {ORDER_COLS} FROM dues_order WHERE order_no = $1");
    Ok(with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(order_no).fetch_optional(c).await)?)
}

fn ledger_yuan(fen: i64) -> String {
    dangjian_rules::dues::yuan(fen)
}
