//! itnio's customer person fields, with the header aliases a column may carry to match them.

use crate::provider::FieldDef;

/// The index of `name` in [`FIELDS`].
pub(super) const NAME: usize = 0;
/// The index of `phoneNumber` in [`FIELDS`].
pub(super) const PHONE: usize = 1;
/// The index of `gender` in [`FIELDS`].
pub(super) const GENDER: usize = 2;

/// The fields of a customer person, with the header aliases we accept.
pub static FIELDS: [FieldDef; 3] = [
    FieldDef {
        name: "name",
        aliases: &[
            "full name",
            "customer name",
            "customer",
            "姓名",
            "名字",
            "客户名称",
            "客户姓名",
            "nama",
            "nama lengkap",
        ],
    },
    FieldDef {
        name: "phoneNumber",
        aliases: &[
            "phone",
            "phone number",
            "mobile",
            "mobile phone",
            "tel",
            "telephone",
            "cell",
            "电话",
            "电话号码",
            "手机",
            "手机号",
            "手机号码",
            "hp",
            "no hp",
            "nomor hp",
            "telepon",
            "nomor telepon",
        ],
    },
    FieldDef {
        name: "gender",
        aliases: &["sex", "性别", "jenis kelamin"],
    },
];
