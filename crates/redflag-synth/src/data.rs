//! Static reference data: countries, regions, banks, names, merchant
//! categories. All names of people and firms are invented.

/// Countries of the domestic population, with their share of accounts.
pub(crate) const HOME_COUNTRIES: [(&str, f64); 4] = [("KG", 0.80), ("KZ", 0.09), ("UZ", 0.06), ("TJ", 0.05)];

/// ISO 3166-2 regions of the home countries, with their share of the
/// country's population.
pub(crate) const HOME_REGIONS: [(&str, &str, f64); 23] = [
    ("KG", "KG-GB", 35.0), // Bishkek
    ("KG", "KG-C", 15.0),  // Chuy
    ("KG", "KG-GO", 9.0),  // Osh city
    ("KG", "KG-O", 12.0),  // Osh region
    ("KG", "KG-J", 12.0),  // Jalal-Abad
    ("KG", "KG-Y", 6.0),   // Issyk-Kul
    ("KG", "KG-N", 3.0),   // Naryn
    ("KG", "KG-T", 3.0),   // Talas
    ("KG", "KG-B", 5.0),   // Batken
    ("KZ", "KZ-75", 35.0), // Almaty city
    ("KZ", "KZ-71", 25.0), // Astana
    ("KZ", "KZ-79", 20.0), // Shymkent
    ("KZ", "KZ-19", 10.0), // Almaty region
    ("KZ", "KZ-61", 10.0), // Turkistan
    ("UZ", "UZ-TK", 35.0), // Tashkent city
    ("UZ", "UZ-TO", 15.0), // Tashkent region
    ("UZ", "UZ-SA", 15.0), // Samarkand
    ("UZ", "UZ-FA", 15.0), // Fergana
    ("UZ", "UZ-AN", 20.0), // Andijan
    ("TJ", "TJ-DU", 30.0), // Dushanbe
    ("TJ", "TJ-SU", 30.0), // Sughd
    ("TJ", "TJ-KT", 30.0), // Khatlon
    ("TJ", "TJ-RA", 10.0), // Districts of Republican Subordination
];

/// Places abroad where a cash, ATM or money-transfer event can happen.
pub(crate) const FOREIGN_REGIONS: [(&str, &str); 20] = [
    ("RU", "RU-MOW"),
    ("RU", "RU-SPE"),
    ("RU", "RU-SVE"),
    ("RU", "RU-NVS"),
    ("TR", "TR-34"),
    ("TR", "TR-07"),
    ("AE", "AE-DU"),
    ("TR", "TR-27"), // Gaziantep, borders Syria
    ("TR", "TR-79"), // Kilis, borders Syria
    ("SY", "SY-HL"),
    ("SY", "SY-ID"),
    ("SY", "SY-RA"),
    ("SY", "SY-DI"),
    ("IQ", "IQ-NI"),
    ("IQ", "IQ-BG"),
    ("AF", "AF-KAB"),
    ("AF", "AF-BAL"),
    ("CN", "CN-XJ"),
    ("DE", "DE-BE"),
    ("KZ", "KZ-75"),
];

/// Banks (institution ids, BIC-like) by country. The home countries have
/// several; a foreign country's list holds its correspondent banks.
pub(crate) fn banks(country: &str) -> &'static [&'static str] {
    match country {
        "KG" => &["ALTBKG22", "TNGRKG22", "ISKLKG22", "BKTKKG22", "NRBKKG22"],
        "KZ" => &["STPKKZ2A", "ALMBKZ2A", "ESLKKZ2A"],
        "UZ" => &["SAMBUZ22", "TSHBUZ22"],
        "TJ" => &["DSHBTJ22", "KHJBTJ22"],
        "RU" => &["MSKBRU2M", "VLGBRU2M", "URLBRU2S"],
        "TR" => &["ISTBTR2I", "ANKBTR2A"],
        "AE" => &["DXBBAE2D", "SHJBAE2S"],
        "CN" => &["SHGBCN2S", "URMBCN2X"],
        "DE" => &["FRKBDE2F"],
        "IR" => &["TEHBIR2T"],
        "KP" => &["PYGBKP2P"],
        "VN" => &["HNBKVN2H"],
        "KE" => &["NRBKKE2N"],
        "SY" => &["DMSBSY2D"],
        "IQ" => &["BGDBIQ2B"],
        "AF" => &["KBLBAF2K"],
        "LT" => &["VLNALT22"],
        "EE" => &["TLNAEE22"],
        "SC" => &["MAHESC22"],
        _ => &["XXXBXX22"],
    }
}

/// Money-transfer operators (the institution on the foreign side of an
/// MVTS transfer).
pub(crate) fn mvts_operator(country: &str) -> &'static str {
    match country {
        "RU" => "MTOPRU2M",
        "KZ" => "MTOPKZ2A",
        "TR" => "MTOPTR2I",
        "SY" => "MTOPSY2D",
        "IQ" => "MTOPIQ2B",
        "AF" => "MTOPAF2K",
        _ => "MTOPXX22",
    }
}

pub(crate) const MALE_FIRST: [(&str, &str); 30] = [
    ("Nurlan", "Нурлан"),
    ("Azamat", "Азамат"),
    ("Bakyt", "Бакыт"),
    ("Erlan", "Эрлан"),
    ("Timur", "Тимур"),
    ("Aibek", "Айбек"),
    ("Bolot", "Болот"),
    ("Daniyar", "Данияр"),
    ("Ulan", "Улан"),
    ("Kanat", "Канат"),
    ("Marat", "Марат"),
    ("Ruslan", "Руслан"),
    ("Talant", "Талант"),
    ("Almaz", "Алмаз"),
    ("Adilet", "Адилет"),
    ("Bekzat", "Бекзат"),
    ("Dastan", "Дастан"),
    ("Emil", "Эмиль"),
    ("Islam", "Ислам"),
    ("Murat", "Мурат"),
    ("Sanzhar", "Санжар"),
    ("Rustam", "Рустам"),
    ("Jasur", "Жасур"),
    ("Aziz", "Азиз"),
    ("Dmitry", "Дмитрий"),
    ("Sergey", "Сергей"),
    ("Alexey", "Алексей"),
    ("Ivan", "Иван"),
    ("Yerlan", "Ерлан"),
    ("Arman", "Арман"),
];

pub(crate) const FEMALE_FIRST: [(&str, &str); 25] = [
    ("Aigul", "Айгуль"),
    ("Aizada", "Айзада"),
    ("Aida", "Аида"),
    ("Gulnara", "Гульнара"),
    ("Nurgul", "Нургуль"),
    ("Cholpon", "Чолпон"),
    ("Asel", "Асель"),
    ("Dinara", "Динара"),
    ("Elmira", "Эльмира"),
    ("Zhyldyz", "Жылдыз"),
    ("Kanykei", "Каныкей"),
    ("Meerim", "Мээрим"),
    ("Nazgul", "Назгуль"),
    ("Saltanat", "Салтанат"),
    ("Aliya", "Алия"),
    ("Madina", "Мадина"),
    ("Dilnoza", "Дильноза"),
    ("Zarina", "Зарина"),
    ("Olga", "Ольга"),
    ("Natalia", "Наталья"),
    ("Elena", "Елена"),
    ("Aruzhan", "Аружан"),
    ("Aigerim", "Айгерим"),
    ("Feruza", "Феруза"),
    ("Kamila", "Камила"),
];

/// Surnames in their masculine form; the feminine form adds "a".
pub(crate) const SURNAMES: [(&str, &str); 30] = [
    ("Asanov", "Асанов"),
    ("Usenov", "Усенов"),
    ("Toktogulov", "Токтогулов"),
    ("Abdyraimov", "Абдыраимов"),
    ("Mamatov", "Маматов"),
    ("Sadykov", "Садыков"),
    ("Zhumabaev", "Жумабаев"),
    ("Ismailov", "Исмаилов"),
    ("Kasymov", "Касымов"),
    ("Bekov", "Беков"),
    ("Osmonov", "Осмонов"),
    ("Sultanov", "Султанов"),
    ("Alymkulov", "Алымкулов"),
    ("Tashiev", "Ташиев"),
    ("Karimov", "Каримов"),
    ("Yusupov", "Юсупов"),
    ("Rakhimov", "Рахимов"),
    ("Nurmatov", "Нурматов"),
    ("Akhmedov", "Ахмедов"),
    ("Ivanov", "Иванов"),
    ("Petrov", "Петров"),
    ("Kuznetsov", "Кузнецов"),
    ("Omurbekov", "Омурбеков"),
    ("Dzhaparov", "Джапаров"),
    ("Ermekov", "Ермеков"),
    ("Seitkaliev", "Сейткалиев"),
    ("Nazarov", "Назаров"),
    ("Temirov", "Темиров"),
    ("Abdullaev", "Абдуллаев"),
    ("Esenov", "Эсенов"),
];

/// Names for people abroad (counterparties of foreign transfers).
pub(crate) const FOREIGN_PEOPLE: [(&str, &[&str]); 9] = [
    (
        "TR",
        &[
            "Mehmet Yilmaz",
            "Ayse Kaya",
            "Mustafa Demir",
            "Emre Celik",
            "Zeynep Sahin",
        ],
    ),
    (
        "SY",
        &["Ahmad Al-Hassan", "Omar Khalil", "Yusuf Haddad", "Khaled Mansour"],
    ),
    ("IQ", &["Ali Al-Jaburi", "Hassan Kareem", "Mustafa Jawad"]),
    ("AF", &["Abdul Rahimi", "Mohammad Nazari", "Gul Ahmad Safi"]),
    ("DE", &["Thomas Becker", "Anna Schmidt"]),
    ("AE", &["Rashid Al-Mansoori", "Fatima Al-Suwaidi"]),
    ("CN", &["Wang Lei", "Li Na", "Zhang Wei"]),
    ("IR", &["Reza Tehrani", "Mahmoud Karimi"]),
    ("KP", &["Kim Chol", "Ri Song Il"]),
];

pub(crate) const ORG_PREFIX: [&str; 32] = [
    "Ala-Too",
    "Bereke",
    "Tulpar",
    "Ak-Bulak",
    "Nur",
    "Altyn",
    "Jibek",
    "Asia",
    "Orion",
    "Kok-Jar",
    "Tengri",
    "Aray",
    "Samal",
    "Zhetisu",
    "Navruz",
    "Silk Way",
    "Arman",
    "Eurasia",
    "Sunkar",
    "Umai",
    "Baktyluu",
    "Kench",
    "Ordo",
    "Kut",
    "Ayan",
    "Erkin",
    "Sapat",
    "Meken",
    "Talas Valley",
    "Emir",
    "Aksai",
    "Nomad",
];

pub(crate) const ORG_SECTORS: [(&str, &str); 16] = [
    ("Trade", "wholesale trade"),
    ("Stroy", "construction"),
    ("Logistics", "transport"),
    ("Agro", "agriculture"),
    ("Textile", "textile manufacturing"),
    ("Motors", "car dealership"),
    ("Food", "food processing"),
    ("Service", "business services"),
    ("Invest", "real estate"),
    ("Tech", "IT services"),
    ("Group", "wholesale trade"),
    ("Mebel", "furniture manufacturing"),
    ("Export", "wholesale trade"),
    ("Energy", "energy"),
    ("Pharm", "pharmaceutical distribution"),
    ("Print", "printing"),
];

/// Foreign firms, by country, for ordinary trade wires and for the planted
/// geography schemes.
pub(crate) fn foreign_firms(country: &str) -> &'static [&'static str] {
    match country {
        "TR" => &[
            "Anadolu Tekstil A.S.",
            "Marmara Gida Ltd.",
            "Ege Makine San.",
            "Bosphorus Export Ltd.",
        ],
        "AE" => &[
            "Gulf Star General Trading LLC",
            "Desert Rose FZE",
            "Al Noor Trading FZCO",
        ],
        "CN" => &[
            "Urumqi Silk Road Trading Co.",
            "Yiwu Sunrise Commodities Co.",
            "Guangzhou Bright Electronics Co.",
        ],
        "DE" => &["Nordwerk Maschinen GmbH", "Rhein Pharma Handel GmbH"],
        "RU" => &["TK Volga Snab", "Ural Metall Trade", "Sibir Agro Postavka"],
        "KZ" => &["Dala Trade TOO", "Steppe Logistics TOO", "Almaty Food Distribution TOO"],
        "IR" => &["Pars Petro Kala Co.", "Tehran Industrial Supply Co."],
        "KP" => &["Korea Pyongsu Trading Corp.", "Sobaeksu Trading Co."],
        "VN" => &["Saigon Coffee Export JSC", "Hanoi Garment Trading Co."],
        "KE" => &["Nairobi Tea Brokers Ltd.", "Mombasa Freight Ltd."],
        "SY" => &["Damascus Dried Fruit Co.", "Aleppo Textile Trading Est."],
        _ => &["Global Trading Ltd."],
    }
}

/// Invented parties on an invented watch list (`samples/watchlist-demo.csv`): the
/// list's form of the name, and the form written in the transactions (another script,
/// another transliteration, another word order), with the party's country.
pub(crate) const WATCHLISTED: [(&str, &str, &str); 5] = [
    ("Rustam Kadyrovich Tashmatov", "Ташматов Рустам", "TR"),
    ("Jamshid Olimov", "OLIMOV DZHAMSHID", "AE"),
    ("Sayfullo Khudoyberdiev", "Сайфулло Худойбердиев", "RU"),
    (
        "Zarafshan Mountain Relief Foundation",
        "ZARAFSHAN MOUNTAIN RELIEF FOUNDATION LTD",
        "TR",
    ),
    ("Green Crescent Trading FZE", "Green Crescent General Trading FZE", "AE"),
];

/// Countries of ordinary foreign trade, with their weights.
pub(crate) const TRADE_PARTNERS: [(&str, f64); 6] = [
    ("CN", 25.0),
    ("TR", 25.0),
    ("RU", 20.0),
    ("KZ", 15.0),
    ("AE", 10.0),
    ("DE", 5.0),
];

/// Merchant categories (ISO 18245) used for card traffic: code, share of
/// merchants, median amount, log-sigma, min, max, name stem.
pub(crate) struct MccSpec {
    pub(crate) code: &'static str,
    pub(crate) share: f64,
    pub(crate) median: f64,
    pub(crate) sigma: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) stem: &'static str,
    pub(crate) activity: &'static str,
    /// Whether the business banks a lot of cash takings.
    pub(crate) cash_business: bool,
}

pub(crate) const CARD_MCCS: [MccSpec; 10] = [
    MccSpec {
        code: "5411",
        share: 30.0,
        median: 18.0,
        sigma: 0.8,
        min: 1.0,
        max: 400.0,
        stem: "Market",
        activity: "grocery retail",
        cash_business: true,
    },
    MccSpec {
        code: "5812",
        share: 20.0,
        median: 14.0,
        sigma: 0.6,
        min: 2.0,
        max: 250.0,
        stem: "Cafe",
        activity: "restaurant",
        cash_business: true,
    },
    MccSpec {
        code: "5541",
        share: 10.0,
        median: 30.0,
        sigma: 0.5,
        min: 5.0,
        max: 150.0,
        stem: "Oil",
        activity: "fuel station",
        cash_business: true,
    },
    MccSpec {
        code: "5912",
        share: 8.0,
        median: 9.0,
        sigma: 0.7,
        min: 1.0,
        max: 200.0,
        stem: "Pharmacy",
        activity: "pharmacy",
        cash_business: false,
    },
    MccSpec {
        code: "5651",
        share: 8.0,
        median: 45.0,
        sigma: 0.7,
        min: 5.0,
        max: 800.0,
        stem: "Fashion",
        activity: "clothing retail",
        cash_business: false,
    },
    MccSpec {
        code: "5732",
        share: 5.0,
        median: 120.0,
        sigma: 0.9,
        min: 10.0,
        max: 3000.0,
        stem: "Electronics",
        activity: "electronics retail",
        cash_business: false,
    },
    MccSpec {
        code: "5311",
        share: 5.0,
        median: 35.0,
        sigma: 0.8,
        min: 3.0,
        max: 800.0,
        stem: "Mall",
        activity: "department store",
        cash_business: false,
    },
    MccSpec {
        code: "5999",
        share: 10.0,
        median: 25.0,
        sigma: 0.9,
        min: 1.0,
        max: 600.0,
        stem: "Shop",
        activity: "retail",
        cash_business: true,
    },
    MccSpec {
        code: "7011",
        share: 2.0,
        median: 90.0,
        sigma: 0.6,
        min: 20.0,
        max: 900.0,
        stem: "Hotel",
        activity: "hotel",
        cash_business: false,
    },
    MccSpec {
        code: "4511",
        share: 1.0,
        median: 220.0,
        sigma: 0.5,
        min: 60.0,
        max: 1200.0,
        stem: "Air",
        activity: "airline",
        cash_business: false,
    },
];

/// Merchant categories that only planted schemes use: taxis, dating and escort
/// services, massage parlours, travel agencies.
pub(crate) const SCHEME_MCCS: [&str; 4] = ["4121", "7273", "7297", "4722"];

pub(crate) const MCC_ATM: &str = "6011";
pub(crate) const MCC_CRYPTO: &str = "6051";

/// Occupations of individuals, with their share, and whether they are
/// usually paid a salary by an employer in the population.
pub(crate) const OCCUPATIONS: [(&str, f64, bool); 14] = [
    ("employee", 22.0, true),
    ("teacher", 6.0, true),
    ("doctor", 3.0, true),
    ("engineer", 5.0, true),
    ("driver", 7.0, true),
    ("construction worker", 7.0, true),
    ("IT specialist", 3.0, true),
    ("trader", 8.0, false),
    ("self-employed", 8.0, false),
    ("farmer", 6.0, false),
    ("student", 8.0, false),
    ("pensioner", 9.0, false),
    ("homemaker", 5.0, false),
    ("unemployed", 3.0, false),
];

/// Virtual-asset service providers (counterparties of crypto purchases).
pub(crate) const VASPS: [(&str, &str); 4] = [
    ("LT", "Coinhaven UAB"),
    ("EE", "Northbit Exchange OU"),
    ("SC", "Bluereef Digital Assets Ltd."),
    ("LT", "Ambertoken UAB"),
];

/// Months in English, for narratives.
pub(crate) const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
