//! nxlink's customer fields: the table of every field of the API page, in its order, with the
//! header aliases a column may carry to match it, and the groups of fields the rules refer to
//! (phone-like fields, contact channels).

use crate::provider::FieldDef;

/// Field indexes into [`FIELDS`].
pub(super) mod field {
    pub(crate) const FULL_NAME: usize = 0;
    pub(crate) const FIRST_NAME: usize = 1;
    pub(crate) const LAST_NAME: usize = 2;
    pub(crate) const SMS_PHONE: usize = 3;
    pub(crate) const WHATS_APP_PHONE: usize = 4;
    pub(crate) const VIBER_PHONE: usize = 5;
    pub(crate) const MESSENGER: usize = 6;
    pub(crate) const INSTAGRAM: usize = 7;
    pub(crate) const ZALO: usize = 8;
    pub(crate) const LINE: usize = 9;
    pub(crate) const COUNTRY: usize = 10;
    pub(crate) const EMAIL: usize = 11;
    pub(crate) const ADDRESS: usize = 12;
    pub(crate) const BIRTHDAY: usize = 13;
    pub(crate) const TAG_STR: usize = 14;
    pub(crate) const REMARK: usize = 15;
    pub(crate) const TIME_ZONE: usize = 16;
    pub(crate) const GENDER: usize = 17;
    pub(crate) const CUSTOMIZE_FIELD: usize = 18;
    pub(crate) const BELONG_SEAT_USER: usize = 19;
    pub(crate) const WEIGHT: usize = 20;
}

const fn field_def(name: &'static str, aliases: &'static [&'static str]) -> FieldDef {
    FieldDef { name, aliases }
}

/// Every customer field of the API page, in its order, with the header aliases we accept.
pub static FIELDS: [FieldDef; 21] = [
    field_def(
        "full_name",
        &[
            "name",
            "customer name",
            "customer",
            "姓名",
            "名字",
            "客户名称",
            "客户姓名",
            "nama",
            "nama lengkap",
        ],
    ),
    field_def("first_name", &["given name", "名", "nama depan"]),
    field_def(
        "last_name",
        &["surname", "family name", "姓", "nama belakang"],
    ),
    field_def(
        "sms_phone",
        &["sms", "tel", "telephone", "电话", "电话号码", "telepon"],
    ),
    field_def(
        "whats_app_phone",
        &[
            "whatsapp",
            "wa",
            "whatsapp number",
            "phone",
            "phone number",
            "mobile",
            "mobile phone",
            "cell",
            "手机",
            "手机号",
            "手机号码",
            "hp",
            "no hp",
            "nomor hp",
            "nomor whatsapp",
        ],
    ),
    field_def("viber_phone", &["viber"]),
    field_def("messenger", &["messenger id"]),
    field_def("instagram", &["instagram id"]),
    field_def("zalo", &["zalo id"]),
    field_def("line", &["line id"]),
    field_def("country", &["国家", "negara"]),
    field_def("email", &["e-mail", "mail", "邮箱", "电子邮件", "邮件"]),
    field_def("address", &["地址", "alamat"]),
    field_def(
        "birthday",
        &[
            "birth date",
            "date of birth",
            "dob",
            "生日",
            "出生日期",
            "tanggal lahir",
        ],
    ),
    field_def("tagStr", &["tags", "tag", "标签"]),
    field_def(
        "remark",
        &["remarks", "note", "notes", "comment", "备注", "catatan"],
    ),
    field_def("time_zone", &["timezone", "tz", "时区"]),
    field_def("gender", &["sex", "性别", "jenis kelamin"]),
    field_def("customize_field", &["custom fields", "自定义字段"]),
    field_def("belong_seat_user", &["seat", "agent", "坐席"]),
    field_def("weight", &["level", "customer level", "等级"]),
];

pub(super) const PHONE_FIELDS: [usize; 3] =
    [field::SMS_PHONE, field::WHATS_APP_PHONE, field::VIBER_PHONE];
