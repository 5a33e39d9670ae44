//! Writes a customer workbook for the spreadsheet benchmark (bench/sheet.sh): a header and N
//! rows of name, phone (a number), birthday (a date cell), e-mail and note, nxlink columns.
//!
//!     cargo run --release --example sheet_workbook -- OUT.xlsx [ROWS]

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().ok_or("usage: sheet_workbook OUT.xlsx [ROWS]")?;
    let rows: u32 = args.next().map_or(Ok(200_000), |n| n.parse())?;
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let ws = wb.add_worksheet();
    for (c, h) in ["Full Name", "WhatsApp", "Birthday", "Email", "Notes"]
        .into_iter()
        .enumerate()
    {
        ws.write_string(0, u16::try_from(c)?, h)?;
    }
    for i in 1..=rows {
        let name = if i % 10 == 0 {
            format!("张伟{i}")
        } else {
            format!("Customer {i}")
        };
        ws.write_string(i, 0, name)?;
        ws.write_number(i, 1, 6_281_200_000_000.0 + f64::from(i))?;
        let birthday = ExcelDateTime::from_ymd(
            1960 + u16::try_from(i % 40)?,
            1 + u8::try_from(i % 12)?,
            1 + u8::try_from(i % 28)?,
        )?;
        ws.write_datetime_with_format(i, 2, birthday, &date)?;
        ws.write_string(i, 3, format!("c{i}@example.com"))?;
        ws.write_string(i, 4, format!("imported from the spring list, row {i}"))?;
    }
    wb.save(&out)?;
    Ok(())
}
