/*  reasons - human descriptions of the scorer's reason codes

    Mirrors common/reasons.h (codes are only ever appended there). The
    gateway pushes bare codes; the REST API may push {code, description}
    objects, whose description wins. An unknown code is shown as itself.  */

const DESCRIPTIONS = {
    amount_spike: "amount far above the account's usual",
    velocity_minute: 'many transactions in the last minute',
    velocity_hour: 'many transactions in the last hour',
    card_testing: 'burst of small amounts',
    new_country: 'country not seen for this account',
    new_device: 'device not seen for this account',
    impossible_travel: 'country changed faster than travel allows',
    night_activity: 'unusual activity at night',
    new_device_high_amount: 'new device with a high amount',
    risky_category: 'merchant category with high fraud risk',
    model_anomaly: 'the anomaly model scores it as unusual',
    decline_burst: 'several declines in a row',
    merchant_activity: 'many accounts, small amounts or new accounts at the merchant this hour',
    merchant_fraud: "the merchant's recent customers later saw fraud",
    shared_device: 'device used by many accounts',
    model_supervised: 'the model trained on fraud labels finds it likely fraud',
    structuring: 'several amounts just under the reporting limit',
};

//  [{code, description}] from whatever the alert carries (never throws).
export function describeReasons(reasons) {
    if (!Array.isArray(reasons)) return [];
    const out = [];
    for (const r of reasons) {
        if (typeof r === 'string' && r) {
            out.push({ code: r, description: DESCRIPTIONS[r] || r.replace(/_/g, ' ') });
        } else if (r && typeof r === 'object' && typeof r.code === 'string') {
            const description = typeof r.description === 'string' && r.description
                ? r.description : DESCRIPTIONS[r.code] || r.code.replace(/_/g, ' ');
            out.push({ code: r.code, description });
        }
    }
    return out;
}
