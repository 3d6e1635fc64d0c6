//! The demo tree: one 党委 with three 党总支 and thirteen branches, about 580 people with
//! plausible names, ID numbers, phones and development histories, and the committees of every
//! level. A pure function of `today`: a fixed seed, no IO, so the same day gives the same tree.

use std::collections::HashSet;

use dangjian_rules::IdNumber;
use dangjian_rules::id_number::check_char;
use dangjian_rules::member::{EventKind, Gender, MemberStatus, PersonCategory};
use dangjian_rules::org::{BranchType, CommitteePost, OrgCategory, OrgKind};
use time::{Date, Month};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoTree {
    pub orgs: Vec<DemoOrg>,
    pub people: Vec<DemoPerson>,
    pub posts: Vec<DemoPost>,
    /// index into orgs of the first branch (the demo secretary's branch)
    pub first_branch: usize,
    /// indexes into people: the demo logins `secretary`, `member`, `staff` (all in first_branch or its 党小组)
    pub secretary: usize,
    pub member: usize,
    pub staff: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOrg {
    pub name: String,
    pub kind: OrgKind,
    /// Some(Regular|Joint|Temporary|Mobile) for branches, None otherwise
    pub branch_type: Option<BranchType>,
    pub category: OrgCategory,
    /// index into orgs; parents always come before children
    pub parent: Option<usize>,
    pub established_on: Date,
    /// committee terms, for committees/general branches/branches
    pub term_started_on: Option<Date>,
    pub term_years: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPerson {
    /// the branch, or the 党小组 they belong to
    pub org: usize,
    pub name: String,
    pub gender: Gender,
    pub ethnicity: String,
    pub birth_date: Date,
    pub id_number: IdNumber,
    pub phone: String,
    pub education: String,
    pub category: PersonCategory,
    pub status: MemberStatus,
    /// 入党日期 = 支部大会 date, for formal/probationary
    pub joined_on: Option<Date>,
    /// 转正日期 = joined + 1 year, formal only
    pub regularized_on: Option<Date>,
    /// 工作单位及职务
    pub work_unit: String,
    /// status events in date order, consistent with status
    pub history: Vec<(EventKind, Date)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPost {
    pub org: usize,
    pub person: usize,
    pub post: CommitteePost,
}

/// Builds the demo tree as of `today` (every date in it is on or before `today`, except the
/// ends of committee terms).
pub fn generate(today: Date) -> DemoTree {
    Gen::new(today).run()
}

// ---------------------------------------------------------------------------------------------
// The shape of the tree
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Profile {
    Office,
    Enterprise,
    Faculty,
    Undergrad,
    Graduate,
    Community,
    Retired,
    Mobile,
    Joint,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Term {
    Current,
    /// ended 1–3 months ago: the 换届 reminder
    Expired,
    /// ends within the next 60 days
    EndingSoon,
}

struct UpperSpec {
    name: &'static str,
    kind: OrgKind,
    category: OrgCategory,
    term_years: u32,
}

/// Index 0 is the 党委; 1..=3 are its 党总支.
const UPPERS: [UpperSpec; 4] = [
    UpperSpec {
        name: "滨江新区党委",
        kind: OrgKind::Committee,
        category: OrgCategory::Government,
        term_years: 5,
    },
    UpperSpec {
        name: "区直机关党总支",
        kind: OrgKind::GeneralBranch,
        category: OrgCategory::Government,
        term_years: 3,
    },
    UpperSpec {
        name: "滨江投资集团党总支",
        kind: OrgKind::GeneralBranch,
        category: OrgCategory::Enterprise,
        term_years: 3,
    },
    UpperSpec {
        name: "滨江学院党总支",
        kind: OrgKind::GeneralBranch,
        category: OrgCategory::University,
        term_years: 3,
    },
];

struct BranchSpec {
    name: &'static str,
    /// index into UPPERS
    parent: usize,
    category: OrgCategory,
    branch_type: BranchType,
    profile: Profile,
    /// the employer, prefixed to departments
    unit: &'static str,
    /// 工作单位及职务 of the branch secretary
    secretary_title: &'static str,
    /// departments (or colleges, or companies)
    depts: &'static [&'static str],
    /// job titles from junior to senior
    ladder: &'static [&'static str],
    /// formal, probationary, applicant, activist, candidate, deceased
    counts: [u32; 6],
    term: Term,
}

const OFFICE_LADDER: &[&str] = &["一级科员", "四级主任科员", "副科长", "科长"];
const COMPANY_LADDER: &[&str] = &["职员", "主管", "副经理", "经理"];
const ENGINEER_LADDER: &[&str] = &["技术员", "助理工程师", "工程师", "高级工程师"];
const TEACHER_LADDER: &[&str] = &["助教", "讲师", "副教授", "教授"];
const PRIVATE_LADDER: &[&str] = &["专员", "主管", "经理", "总监"];

/// In org order: the branches of each 党总支 follow it, the 党委's own branches come last.
const BRANCHES: [BranchSpec; 13] = [
    BranchSpec {
        name: "区委办公室党支部",
        parent: 1,
        category: OrgCategory::Government,
        branch_type: BranchType::Regular,
        profile: Profile::Office,
        unit: "滨江新区区委办公室",
        secretary_title: "滨江新区区委办公室副主任",
        depts: &["综合科", "秘书科", "督查科", "信息科", "机要科", "机关党建科"],
        ladder: OFFICE_LADDER,
        counts: [42, 3, 1, 1, 1, 0],
        term: Term::EndingSoon,
    },
    BranchSpec {
        name: "区发展和改革局党支部",
        parent: 1,
        category: OrgCategory::Government,
        branch_type: BranchType::Regular,
        profile: Profile::Office,
        unit: "滨江新区发展和改革局",
        secretary_title: "滨江新区发展和改革局副局长",
        depts: &["办公室", "综合规划科", "投资科", "项目管理科", "价格科", "能源科"],
        ladder: OFFICE_LADDER,
        counts: [42, 4, 1, 2, 1, 0],
        term: Term::Current,
    },
    BranchSpec {
        name: "区财政局党支部",
        parent: 1,
        category: OrgCategory::Government,
        branch_type: BranchType::Regular,
        profile: Profile::Office,
        unit: "滨江新区财政局",
        secretary_title: "滨江新区财政局副局长",
        depts: &["办公室", "预算科", "国库科", "会计科", "政府采购科"],
        ladder: OFFICE_LADDER,
        counts: [31, 2, 1, 1, 1, 0],
        term: Term::Expired,
    },
    BranchSpec {
        name: "集团机关党支部",
        parent: 2,
        category: OrgCategory::Enterprise,
        branch_type: BranchType::Regular,
        profile: Profile::Enterprise,
        unit: "滨江投资集团有限公司",
        secretary_title: "滨江投资集团有限公司综合办公室主任",
        depts: &["综合办公室", "财务部", "投资发展部", "风控法务部", "人力资源部"],
        ladder: COMPANY_LADDER,
        counts: [35, 3, 2, 1, 1, 0],
        term: Term::Current,
    },
    BranchSpec {
        name: "城建公司党支部",
        parent: 2,
        category: OrgCategory::Enterprise,
        branch_type: BranchType::Regular,
        profile: Profile::Enterprise,
        unit: "滨江城市建设有限公司",
        secretary_title: "滨江城市建设有限公司副总经理",
        depts: &["工程管理部", "第一项目部", "第二项目部", "安全质量部", "技术中心"],
        ladder: ENGINEER_LADDER,
        counts: [51, 5, 2, 1, 1, 0],
        term: Term::Current,
    },
    BranchSpec {
        name: "资产运营公司党支部",
        parent: 2,
        category: OrgCategory::Enterprise,
        branch_type: BranchType::Regular,
        profile: Profile::Enterprise,
        unit: "滨江资产运营有限公司",
        secretary_title: "滨江资产运营有限公司副总经理",
        depts: &["资产管理部", "运营部", "财务部", "综合部"],
        ladder: COMPANY_LADDER,
        counts: [24, 2, 1, 1, 1, 0],
        term: Term::Current,
    },
    BranchSpec {
        name: "教师第一党支部",
        parent: 3,
        category: OrgCategory::University,
        branch_type: BranchType::Regular,
        profile: Profile::Faculty,
        unit: "滨江学院",
        secretary_title: "滨江学院计算机学院副院长",
        depts: &["计算机学院", "数学与统计学院", "马克思主义学院"],
        ladder: TEACHER_LADDER,
        counts: [44, 2, 0, 1, 1, 0],
        term: Term::Current,
    },
    BranchSpec {
        name: "本科生党支部",
        parent: 3,
        category: OrgCategory::University,
        branch_type: BranchType::Regular,
        profile: Profile::Undergrad,
        unit: "滨江学院",
        secretary_title: "滨江学院学生工作处辅导员",
        depts: &["计算机学院", "经济管理学院", "外国语学院", "机械工程学院"],
        ladder: &[],
        counts: [20, 10, 8, 7, 5, 0],
        term: Term::Current,
    },
    BranchSpec {
        name: "研究生党支部",
        parent: 3,
        category: OrgCategory::University,
        branch_type: BranchType::Regular,
        profile: Profile::Graduate,
        unit: "滨江学院",
        secretary_title: "滨江学院研究生院辅导员",
        depts: &["计算机学院", "数学与统计学院", "经济管理学院"],
        ladder: &[],
        counts: [34, 8, 3, 5, 4, 0],
        term: Term::Current,
    },
    BranchSpec {
        name: "江畔社区党支部",
        parent: 0,
        category: OrgCategory::Community,
        branch_type: BranchType::Regular,
        profile: Profile::Community,
        unit: "江畔社区",
        secretary_title: "江畔社区居民委员会主任",
        depts: &[],
        ladder: &[],
        counts: [52, 2, 1, 2, 1, 0],
        term: Term::Current,
    },
    BranchSpec {
        name: "离退休干部党支部",
        parent: 0,
        category: OrgCategory::Retired,
        branch_type: BranchType::Regular,
        profile: Profile::Retired,
        unit: "",
        secretary_title: "原滨江新区教育局副局长（已退休）",
        depts: &[],
        ladder: &[],
        counts: [56, 0, 0, 0, 0, 2],
        term: Term::Current,
    },
    BranchSpec {
        name: "流动党员党支部",
        parent: 0,
        category: OrgCategory::Other,
        branch_type: BranchType::Mobile,
        profile: Profile::Mobile,
        unit: "",
        secretary_title: "顺达物流有限公司车队队长",
        depts: &[],
        ladder: &[],
        counts: [28, 1, 0, 0, 0, 0],
        term: Term::Current,
    },
    BranchSpec {
        name: "非公企业联合党支部",
        parent: 0,
        category: OrgCategory::Enterprise,
        branch_type: BranchType::Joint,
        profile: Profile::Joint,
        unit: "",
        secretary_title: "滨江智联科技有限公司行政总监",
        depts: &[
            "滨江智联科技有限公司",
            "江南绿源环保科技有限公司",
            "滨江恒信会计师事务所",
            "新港物流有限公司",
            "润禾生物医药有限公司",
        ],
        ladder: PRIVATE_LADDER,
        counts: [10, 2, 1, 1, 0, 0],
        term: Term::Current,
    },
];

/// Posts of the 党委 and the 党总支: (upper org, post, the branch the holder comes from, their
/// 工作单位及职务).
const UPPER_POSTS: &[(usize, CommitteePost, usize, &str)] = &[
    (0, CommitteePost::Secretary, 0, "滨江新区区委办公室主任"),
    (0, CommitteePost::DeputySecretary, 1, "滨江新区发展和改革局局长"),
    (0, CommitteePost::Organization, 2, "滨江新区财政局局长"),
    (0, CommitteePost::Propaganda, 3, "滨江投资集团有限公司董事长"),
    (0, CommitteePost::Discipline, 6, "滨江学院副院长"),
    (1, CommitteePost::Secretary, 1, "滨江新区发展和改革局副局长"),
    (
        1,
        CommitteePost::Organization,
        0,
        "滨江新区区委办公室机关党建科科长",
    ),
    (1, CommitteePost::Propaganda, 2, "滨江新区财政局办公室主任"),
    (2, CommitteePost::Secretary, 3, "滨江投资集团有限公司总经理"),
    (2, CommitteePost::Organization, 4, "滨江城市建设有限公司总经理"),
    (2, CommitteePost::Propaganda, 5, "滨江资产运营有限公司总经理"),
    (3, CommitteePost::Secretary, 6, "滨江学院院长"),
    (3, CommitteePost::Organization, 6, "滨江学院组织人事处处长"),
    (3, CommitteePost::Propaganda, 6, "滨江学院宣传部部长"),
];

/// Branch committee by the number of formal members: 书记 always; 3–5 委员 from 7 up.
fn committee_posts(formal: u32) -> &'static [CommitteePost] {
    use CommitteePost::*;
    match formal {
        30.. => &[Secretary, DeputySecretary, Organization, Propaganda, Discipline],
        15..30 => &[Secretary, Organization, Propaganda, Discipline],
        7..15 => &[Secretary, Organization, Propaganda],
        _ => &[Secretary],
    }
}

/// 党小组 for branches of 30 people or more: 2–4.
fn group_count(people: u32) -> usize {
    match people {
        52.. => 4,
        40..52 => 3,
        30..40 => 2,
        _ => 0,
    }
}

const GROUP_NAMES: [&str; 4] = ["第一党小组", "第二党小组", "第三党小组", "第四党小组"];

// ---------------------------------------------------------------------------------------------
// Names, places, phones
// ---------------------------------------------------------------------------------------------

const SURNAMES: &[(&str, u32)] = &[
    ("王", 720),
    ("李", 710),
    ("张", 680),
    ("刘", 540),
    ("陈", 460),
    ("杨", 320),
    ("黄", 240),
    ("赵", 210),
    ("吴", 200),
    ("周", 190),
    ("徐", 150),
    ("孙", 150),
    ("马", 120),
    ("朱", 120),
    ("胡", 110),
    ("郭", 110),
    ("何", 100),
    ("高", 100),
    ("林", 100),
    ("罗", 90),
    ("郑", 90),
    ("梁", 80),
    ("谢", 70),
    ("宋", 60),
    ("唐", 60),
    ("许", 55),
    ("韩", 55),
    ("冯", 55),
    ("邓", 55),
    ("曹", 55),
    ("彭", 50),
    ("曾", 50),
    ("肖", 50),
    ("田", 45),
    ("董", 45),
    ("袁", 45),
    ("潘", 45),
    ("于", 45),
    ("蒋", 45),
    ("蔡", 45),
    ("余", 40),
    ("杜", 40),
    ("叶", 40),
    ("程", 40),
    ("苏", 35),
    ("魏", 35),
    ("吕", 35),
    ("丁", 35),
    ("任", 35),
    ("沈", 35),
    ("姚", 30),
    ("卢", 30),
    ("姜", 30),
    ("崔", 30),
    ("钟", 30),
    ("谭", 30),
    ("陆", 30),
    ("汪", 30),
    ("范", 30),
    ("金", 28),
    ("石", 28),
    ("廖", 28),
    ("贾", 28),
    ("夏", 25),
    ("韦", 25),
    ("付", 25),
    ("方", 25),
    ("白", 25),
    ("邹", 25),
    ("孟", 25),
    ("熊", 25),
    ("秦", 25),
    ("邱", 25),
    ("江", 25),
    ("尹", 22),
    ("薛", 22),
    ("闫", 22),
    ("段", 22),
    ("雷", 22),
    ("侯", 22),
    ("龙", 22),
    ("史", 22),
    ("陶", 20),
    ("黎", 20),
    ("贺", 20),
    ("顾", 20),
    ("毛", 20),
    ("郝", 20),
    ("龚", 20),
    ("邵", 20),
    ("万", 20),
    ("钱", 20),
    ("严", 18),
    ("覃", 18),
    ("武", 18),
    ("戴", 18),
    ("莫", 18),
    ("孔", 18),
    ("向", 18),
    ("汤", 18),
    ("常", 15),
    ("温", 15),
    ("康", 15),
    ("施", 15),
    ("文", 15),
    ("牛", 14),
    ("樊", 14),
    ("葛", 14),
    ("邢", 14),
    ("安", 12),
    ("齐", 12),
    ("易", 12),
    ("乔", 12),
    ("伍", 12),
    ("庞", 12),
    ("颜", 12),
    ("倪", 12),
    ("庄", 12),
    ("聂", 12),
];

/// Given names by generation (born before 1963, 1963–1986, 1987 on).
const MALE_OLD: &[&str] = &[
    "建国", "国华", "振华", "德胜", "国庆", "长青", "光明", "志远", "保国", "永福", "胜利", "卫国", "文华",
    "庆丰", "宝林", "建民", "福生", "树林", "荣华", "金山", "玉林", "学文", "德华", "永年", "世杰", "国栋",
    "志明", "家驹", "明", "华", "军", "林", "忠", "顺", "斌", "新华", "春生", "跃进", "援朝", "国良",
];
const MALE_MID: &[&str] = &[
    "建华", "志强", "海涛", "晓东", "立新", "文军", "卫东", "永刚", "国强", "建军", "晓明", "志刚", "宏伟",
    "俊峰", "海波", "春雷", "剑锋", "明辉", "晓峰", "德明", "学军", "建平", "新民", "伟", "强", "军", "勇",
    "涛", "斌", "刚", "平", "辉", "峰", "波", "杰", "鹏", "亮", "东升", "继东", "红军", "爱民", "向阳",
    "振宇", "海军", "小兵",
];
const MALE_NEW: &[&str] = &[
    "子轩", "浩然", "宇航", "一鸣", "思远", "俊杰", "梓豪", "明轩", "浩宇", "博文", "天佑", "睿哲", "泽宇",
    "嘉豪", "文博", "志豪", "家豪", "晨阳", "宇轩", "俊熙", "逸凡", "鹏飞", "佳乐", "子墨", "雨泽", "皓轩",
    "明哲", "宏宇", "一凡", "旭东", "文杰", "海洋", "浩", "宇", "航", "博", "磊", "鑫", "睿", "哲", "凯",
    "帆", "超", "晨", "昊", "锐",
];
const FEMALE_OLD: &[&str] = &[
    "秀英", "桂英", "玉兰", "淑珍", "秀兰", "桂兰", "凤英", "玉梅", "秀珍", "淑英", "玉珍", "桂芳", "秀华",
    "凤兰", "素珍", "月英", "淑华", "玉华", "兰英", "桂珍", "慧珍", "丽华", "美华", "芳", "兰", "英", "华",
    "珍", "梅", "琴",
];
const FEMALE_MID: &[&str] = &[
    "晓燕", "丽娟", "红梅", "春燕", "秀梅", "晓红", "海燕", "丽华", "雪梅", "玉梅", "文静", "冬梅", "晓丽",
    "丽萍", "慧敏", "晓梅", "亚萍", "建芳", "卫红", "金凤", "艳", "丽", "娜", "敏", "静", "芳", "霞", "燕",
    "玲", "丹", "萍", "红", "慧", "晶", "洁", "莉", "英", "蓉",
];
const FEMALE_NEW: &[&str] = &[
    "欣怡", "梓涵", "雨桐", "诗涵", "子萱", "佳怡", "思彤", "可馨", "雨萱", "梦琪", "语嫣", "若汐", "婉清",
    "晓雯", "佳琪", "心怡", "思雨", "雅琪", "一诺", "静怡", "紫涵", "雨欣", "梦瑶", "芷若", "诗琪", "嘉欣",
    "晓彤", "舒婷", "佳慧", "文婷", "悦", "琳", "颖", "倩", "婷", "璐", "瑶", "雪", "妍", "琪", "萌",
];

const ETHNIC_MINORITIES: &[(&str, u32)] = &[
    ("回族", 3),
    ("满族", 3),
    ("蒙古族", 2),
    ("壮族", 2),
    ("土家族", 2),
    ("朝鲜族", 1),
];

/// An area code from where each minority mostly lives.
fn minority_area(ethnicity: &str) -> &'static str {
    match ethnicity {
        "回族" => "640104",
        "满族" => "210102",
        "蒙古族" => "150102",
        "壮族" => "450102",
        "土家族" => "433101",
        _ => "222401",
    }
}

const AREA_NANJING: &[&str] = &[
    "320102", "320104", "320105", "320106", "320111", "320113", "320114", "320115", "320116",
];
const AREA_ELSEWHERE: &[&str] = &[
    "110105", "110108", "310104", "310115", "330106", "330102", "420102", "420106", "510104", "510107",
    "370102", "410105", "340104", "340111", "360102", "430102", "610113", "320402", "320302", "321002",
    "321102", "320583",
];
const AREA_RURAL: &[&str] = &[
    "341221", "341222", "342222", "321323", "320324", "411522", "411323", "510722", "430524",
];

const PHONE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "170", "176", "177", "180", "181", "182", "183", "185", "186", "187", "188",
    "189", "191", "193", "195", "198", "199",
];

const EDU_DOCTOR: &str = "博士研究生";
const EDU_MASTER: &str = "硕士研究生";
const EDU_BACHELOR: &str = "大学本科";
const EDU_COLLEGE: &str = "大学专科";
const EDU_HIGH: &str = "高中";
const EDU_VOCATIONAL: &str = "中专";

// ---------------------------------------------------------------------------------------------
// Randomness and dates
// ---------------------------------------------------------------------------------------------

const SEED: u64 = 0x5EED_DA16_2026_0701;

/// splitmix64: small, fast, and the same sequence everywhere.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    pub(super) fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(len as u64)).unwrap_or(0)
    }

    /// Inclusive.
    pub(super) fn range(&mut self, lo: i32, hi: i32) -> i32 {
        if hi <= lo {
            return lo;
        }
        let span = u64::from(hi.abs_diff(lo)) + 1;
        lo + i32::try_from(self.below(span)).unwrap_or(0)
    }

    pub(super) fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    pub(super) fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.index(xs.len())]
    }

    fn weighted<T: Copy>(&mut self, xs: &[(T, u32)]) -> T {
        let total: u64 = xs.iter().map(|&(_, w)| u64::from(w)).sum();
        let mut r = self.below(total);
        for &(x, w) in xs {
            if r < u64::from(w) {
                return x;
            }
            r -= u64::from(w);
        }
        xs[xs.len() - 1].0
    }

    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.index(i + 1);
            xs.swap(i, j);
        }
    }

    /// A day in `lo..=hi` (`lo` when the range is empty).
    fn date_between(&mut self, lo: Date, hi: Date) -> Date {
        let days = hi.to_julian_day() - lo.to_julian_day();
        add_days(lo, self.range(0, days))
    }
}

/// The date, with the day clamped to the month's length (Feb 29 → Feb 28).
fn ymd(year: i32, month: Month, day: u8) -> Date {
    (1..=day.max(1))
        .rev()
        .find_map(|d| Date::from_calendar_date(year, month, d).ok())
        .unwrap_or(Date::MIN)
}

fn add_months(d: Date, n: i32) -> Date {
    let total = d.year() * 12 + i32::from(u8::from(d.month())) - 1 + n;
    let month = u8::try_from(total.rem_euclid(12) + 1)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .unwrap_or(Month::January);
    ymd(total.div_euclid(12), month, d.day())
}

/// Same day `n` years on; Feb 29 becomes Feb 28 in a common year.
fn add_years(d: Date, n: i32) -> Date {
    add_months(d, 12 * n)
}

fn add_days(d: Date, n: i32) -> Date {
    Date::from_julian_day(d.to_julian_day() + n).unwrap_or(d)
}

/// Full years of age on `on`.
fn age_on(birth: Date, on: Date) -> i32 {
    let before_birthday = (u8::from(on.month()), on.day()) < (u8::from(birth.month()), birth.day());
    on.year() - birth.year() - i32::from(before_birthday)
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Secretary,
    Committee,
    Ordinary,
}

/// The development steps, in order, and the months (random range, minimum) before each.
const STEPS: [(EventKind, i32, i32); 4] = [
    (EventKind::Apply, 0, 0),
    (EventKind::BecomeActivist, 6, 14),
    (EventKind::BecomeCandidate, 12, 20),
    (EventKind::Admit, 3, 10),
];

struct Gen {
    rng: Rng,
    today: Date,
    ids: HashSet<String>,
    phones: HashSet<String>,
    names: HashSet<String>,
}

impl Gen {
    fn new(today: Date) -> Self {
        Gen {
            rng: Rng(SEED),
            today,
            ids: HashSet::new(),
            phones: HashSet::new(),
            names: HashSet::new(),
        }
    }

    fn run(mut self) -> DemoTree {
        let today = self.today;
        let mut orgs: Vec<DemoOrg> = Vec::new();
        let mut upper_org: [Option<usize>; 4] = [None; 4];
        let mut branch_org = [0usize; BRANCHES.len()];
        let mut branch_groups: Vec<Vec<usize>> = Vec::new();

        // the 党委
        let committee_est = self
            .rng
            .date_between(add_years(today, -24), add_years(today, -19));
        let committee_term = self.rng.date_between(add_years(today, -3), add_years(today, -1));
        upper_org[0] = Some(orgs.len());
        orgs.push(DemoOrg {
            name: UPPERS[0].name.to_owned(),
            kind: UPPERS[0].kind,
            branch_type: None,
            category: UPPERS[0].category,
            parent: None,
            established_on: committee_est,
            term_started_on: Some(committee_term),
            term_years: Some(UPPERS[0].term_years),
        });

        for spec in &BRANCHES {
            // a 党总支 just before its first branch
            let parent = match upper_org[spec.parent] {
                Some(p) => p,
                None => {
                    let u = &UPPERS[spec.parent];
                    let est = self
                        .rng
                        .date_between(add_years(committee_est, 1), add_years(committee_est, 6));
                    let term = self.rng.date_between(add_years(today, -2), add_days(today, -120));
                    let idx = orgs.len();
                    orgs.push(DemoOrg {
                        name: u.name.to_owned(),
                        kind: u.kind,
                        branch_type: None,
                        category: u.category,
                        parent: Some(0),
                        established_on: est,
                        term_started_on: Some(term),
                        term_years: Some(u.term_years),
                    });
                    upper_org[spec.parent] = Some(idx);
                    idx
                }
            };
            let term_start = match spec.term {
                Term::Current => self
                    .rng
                    .date_between(add_days(add_years(today, -3), 90), add_days(today, -30)),
                Term::Expired => add_years(add_days(today, -self.rng.range(35, 85)), -3),
                Term::EndingSoon => add_years(add_days(today, self.rng.range(20, 50)), -3),
            };
            let parent_est = orgs[parent].established_on;
            let est = self
                .rng
                .date_between(add_days(parent_est, 30), add_years(parent_est, 8))
                .min(add_years(term_start, -1))
                .max(parent_est);
            let idx = orgs.len();
            orgs.push(DemoOrg {
                name: spec.name.to_owned(),
                kind: OrgKind::Branch,
                branch_type: Some(spec.branch_type),
                category: spec.category,
                parent: Some(parent),
                established_on: est,
                term_started_on: Some(term_start),
                term_years: Some(3),
            });
            let bi = branch_groups.len();
            branch_org[bi] = idx;
            let mut groups = Vec::new();
            let group_est = self
                .rng
                .date_between(add_years(est, 1), add_years(est, 6))
                .min(today);
            for name in GROUP_NAMES.iter().take(group_count(spec.counts.iter().sum())) {
                groups.push(orgs.len());
                orgs.push(DemoOrg {
                    name: (*name).to_owned(),
                    kind: OrgKind::Group,
                    branch_type: None,
                    category: spec.category,
                    parent: Some(idx),
                    established_on: group_est,
                    term_started_on: None,
                    term_years: None,
                });
            }
            branch_groups.push(groups);
        }

        // people, branch by branch: the secretary first, then the committee, then everyone else
        let mut people: Vec<DemoPerson> = Vec::new();
        let mut posts: Vec<DemoPost> = Vec::new();
        let mut branch_people: Vec<Vec<usize>> = Vec::new();
        for (bi, spec) in BRANCHES.iter().enumerate() {
            let [formal, probationary, applicants, activists, candidates, deceased] = spec.counts;
            let committee = committee_posts(formal);
            let mut statuses: Vec<MemberStatus> = Vec::new();
            let ordinary_formal = formal.saturating_sub(committee.len() as u32);
            for (status, n) in [
                (MemberStatus::Formal, ordinary_formal),
                (MemberStatus::Probationary, probationary),
                (MemberStatus::Applicant, applicants),
                (MemberStatus::Activist, activists),
                (MemberStatus::Candidate, candidates),
                (MemberStatus::Deceased, deceased),
            ] {
                statuses.extend(std::iter::repeat_n(status, n as usize));
            }
            self.rng.shuffle(&mut statuses);

            let mut mine = Vec::new();
            let mut taken_names = HashSet::new();
            for (i, &post) in committee.iter().enumerate() {
                let role = if i == 0 { Role::Secretary } else { Role::Committee };
                let p = self.person(spec, branch_org[bi], MemberStatus::Formal, role, &mut taken_names);
                posts.push(DemoPost {
                    org: branch_org[bi],
                    person: people.len(),
                    post,
                });
                mine.push(people.len());
                people.push(p);
            }
            for status in statuses {
                let p = self.person(spec, branch_org[bi], status, Role::Ordinary, &mut taken_names);
                mine.push(people.len());
                people.push(p);
            }
            branch_people.push(mine);
        }

        // the 党委 and 党总支 committees, from their branches' senior members
        let mut has_post: HashSet<usize> = posts.iter().map(|p| p.person).collect();
        for &(upper, post, bi, title) in UPPER_POSTS {
            let Some(org) = upper_org[upper] else { continue };
            let eligible = |p: &DemoPerson, senior: bool| {
                p.status == MemberStatus::Formal
                    && (!senior
                        || (p.category == PersonCategory::InService && age_on(p.birth_date, today) >= 40))
            };
            let found = [true, false].into_iter().find_map(|senior| {
                branch_people[bi]
                    .iter()
                    .copied()
                    .find(|i| !has_post.contains(i) && eligible(&people[*i], senior))
            });
            if let Some(i) = found {
                people[i].work_unit = title.to_owned();
                has_post.insert(i);
                posts.push(DemoPost { org, person: i, post });
            }
        }

        // the demo logins of the first branch
        let first = &branch_people[0];
        let secretary = first[0];
        let plain_formal = |i: &usize, people: &[DemoPerson]| {
            !has_post.contains(i) && people[*i].status == MemberStatus::Formal
        };
        let staff = first
            .iter()
            .copied()
            .find(|i| plain_formal(i, &people) && (26..=40).contains(&age_on(people[*i].birth_date, today)))
            .or_else(|| first.iter().copied().find(|i| plain_formal(i, &people)))
            .unwrap_or(secretary);

        // 党小组: post holders (and the staff login) stay on the branch, the rest go round the groups;
        // a formal member of working age leads each group (any formal member, failing that)
        for (bi, groups) in branch_groups.iter().enumerate() {
            if groups.is_empty() {
                continue;
            }
            let mut in_group: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
            let grouped = branch_people[bi]
                .iter()
                .copied()
                .filter(|i| !has_post.contains(i) && *i != staff);
            for (k, i) in grouped.enumerate() {
                people[i].org = groups[k % groups.len()];
                in_group[k % groups.len()].push(i);
            }
            for (g, members) in in_group.iter().enumerate() {
                let formal = |i: &&usize| people[**i].status == MemberStatus::Formal;
                let leader = members
                    .iter()
                    .filter(formal)
                    .find(|i| (30..=65).contains(&age_on(people[**i].birth_date, today)))
                    .or_else(|| members.iter().find(formal));
                if let Some(&i) = leader {
                    posts.push(DemoPost {
                        org: groups[g],
                        person: i,
                        post: CommitteePost::GroupLeader,
                    });
                }
            }
        }
        let leaders: HashSet<usize> = posts.iter().map(|p| p.person).collect();
        let member = first
            .iter()
            .copied()
            .find(|&i| i != staff && !leaders.contains(&i) && people[i].status == MemberStatus::Formal)
            .unwrap_or(secretary);

        posts.sort_by_key(|p| (p.org, p.post, p.person));
        DemoTree {
            orgs,
            people,
            posts,
            first_branch: branch_org[0],
            secretary,
            member,
            staff,
        }
    }

    fn person(
        &mut self,
        spec: &BranchSpec,
        org: usize,
        status: MemberStatus,
        role: Role,
        taken_names: &mut HashSet<String>,
    ) -> DemoPerson {
        let today = self.today;
        let settled = matches!(status, MemberStatus::Formal | MemberStatus::Deceased);
        let category = self.category_for(spec.profile, role, settled);
        let (min_age, mut max_age) = age_range(spec.profile, category, role);
        if !settled {
            // the Party develops mostly younger people
            max_age = max_age.min(45).max(min_age);
        }

        // the last step reached, the window it falls in, and the months of steps before it
        let year_ago = add_years(today, -1);
        let (last_step, win_lo, win_hi) = match status {
            MemberStatus::Applicant => (0, add_months(today, -15), add_days(today, -7)),
            MemberStatus::Activist => (1, add_months(today, -22), add_days(today, -20)),
            MemberStatus::Candidate => (2, add_months(today, -11), add_days(today, -14)),
            MemberStatus::Probationary => (3, add_days(year_ago, 5), add_days(today, -7)),
            _ => (3, Date::MIN, add_days(year_ago, -10)),
        };
        let min_months: i32 = STEPS[1..=last_step].iter().map(|s| s.1).sum();
        // 18 at the application, one month to spare
        let lead = 12 * 18 + min_months + 1;

        let floor = ymd(1900, Month::January, 1);
        let earliest = add_days(add_years(today, -(max_age + 1)), 1).max(floor);
        let latest = add_years(today, -min_age)
            .min(add_months(win_hi, -lead))
            .max(earliest);
        let birth = self.rng.date_between(earliest, latest);
        let age = age_on(birth, today);

        // the last step's date, then the steps before it, backwards
        let lo = win_lo.max(add_months(birth, lead));
        let hi = if settled {
            let cap = if spec.profile == Profile::Retired { 45 } else { 38 };
            win_hi.min(add_years(birth, self.rng.range(22, cap))).max(lo)
        } else {
            win_hi
        };
        let last_date = self.rng.date_between(lo, hi);
        let mut history = self.steps_before(birth, last_step, last_date);
        let mut joined_on = None;
        let mut regularized_on = None;
        if last_step == 3 {
            joined_on = Some(last_date);
            if status != MemberStatus::Probationary {
                let reg = add_years(last_date, 1);
                regularized_on = Some(reg);
                history.push((EventKind::Regularize, reg));
                if status == MemberStatus::Deceased {
                    let lo = add_days(reg, 30).max(add_years(today, -3));
                    let died = self.rng.date_between(lo, add_days(today, -15).max(lo));
                    history.push((EventKind::Deceased, died));
                }
            }
        }

        let male_pct = match spec.profile {
            Profile::Office | Profile::Joint => 55,
            Profile::Enterprise => 64,
            Profile::Faculty => 52,
            Profile::Undergrad => 45,
            Profile::Graduate => 48,
            Profile::Community => 40,
            Profile::Retired => 62,
            Profile::Mobile => 72,
        };
        let gender = if self.rng.percent(male_pct) {
            Gender::Male
        } else {
            Gender::Female
        };
        let name = self.name(gender, birth, taken_names);
        let ethnicity = if self.rng.percent(93) {
            "汉族"
        } else {
            self.rng.weighted(ETHNIC_MINORITIES)
        };
        let area = if ethnicity != "汉族" {
            minority_area(ethnicity)
        } else {
            let local_pct = match spec.profile {
                Profile::Faculty | Profile::Graduate => 30,
                Profile::Undergrad => 40,
                Profile::Mobile => 0,
                _ => 75,
            };
            if spec.profile == Profile::Mobile {
                self.rng.pick(AREA_RURAL)
            } else if self.rng.percent(local_pct) {
                self.rng.pick(AREA_NANJING)
            } else {
                self.rng.pick(AREA_ELSEWHERE)
            }
        };
        let id_number = self.id_number(area, birth, gender);
        let phone = self.phone();
        let phd = spec.profile == Profile::Graduate
            && category == PersonCategory::Student
            && age >= 24
            && self.rng.percent(30);
        let education = self.education(spec.profile, category, age, phd).to_owned();
        let work_unit = self.work_unit(spec, category, role, birth, phd);

        DemoPerson {
            org,
            name,
            gender,
            ethnicity: ethnicity.to_owned(),
            birth_date: birth,
            id_number,
            phone,
            education,
            category,
            status,
            joined_on,
            regularized_on,
            work_unit,
            history,
        }
    }

    /// Apply … up to `STEPS[last]` on `last_date`, with realistic gaps; the minimum gaps when
    /// the realistic ones would put the application before the 18th birthday.
    fn steps_before(&mut self, birth: Date, last: usize, last_date: Date) -> Vec<(EventKind, Date)> {
        let adult = add_years(birth, 18);
        // whole months plus a few days more: the days only widen the gaps
        let gaps: Vec<(i32, i32)> = (1..=last)
            .map(|s| (self.rng.range(STEPS[s].1, STEPS[s].2), self.rng.range(0, 24)))
            .collect();
        let chain = |gaps: &dyn Fn(usize) -> (i32, i32)| {
            let mut dates = vec![last_date; last + 1];
            for s in (1..=last).rev() {
                let (months, days) = gaps(s);
                dates[s - 1] = add_days(add_months(dates[s], -months), -days);
            }
            dates
        };
        let mut dates = chain(&|s| gaps[s - 1]);
        if dates[0] < adult {
            dates = chain(&|s| (STEPS[s].1, 0));
        }
        STEPS.iter().zip(dates).map(|(s, d)| (s.0, d)).collect()
    }

    /// `settled`: a formal (or former) member rather than a probationary or one in the pipeline.
    fn category_for(&mut self, profile: Profile, role: Role, settled: bool) -> PersonCategory {
        use PersonCategory::*;
        match profile {
            Profile::Office | Profile::Enterprise | Profile::Faculty | Profile::Joint => InService,
            Profile::Undergrad | Profile::Graduate if role == Role::Secretary => InService,
            Profile::Undergrad | Profile::Graduate => Student,
            Profile::Retired => Retired,
            Profile::Community => match role {
                Role::Secretary => InService,
                Role::Committee => self.rng.weighted(&[(InService, 1), (Retired, 1)]),
                Role::Ordinary if settled => {
                    self.rng
                        .weighted(&[(Retired, 45), (InService, 30), (Unemployed, 15), (Relief, 10)])
                }
                Role::Ordinary => self
                    .rng
                    .weighted(&[(InService, 60), (Unemployed, 25), (Relief, 15)]),
            },
            Profile::Mobile => match role {
                Role::Secretary => InService,
                _ => self.rng.weighted(&[(Farmer, 65), (InService, 35)]),
            },
        }
    }

    fn name(&mut self, gender: Gender, birth: Date, taken: &mut HashSet<String>) -> String {
        let pool = match (gender, birth.year()) {
            (Gender::Male, ..1963) => MALE_OLD,
            (Gender::Male, 1963..1987) => MALE_MID,
            (Gender::Male, _) => MALE_NEW,
            (Gender::Female, ..1963) => FEMALE_OLD,
            (Gender::Female, 1963..1987) => FEMALE_MID,
            (Gender::Female, _) => FEMALE_NEW,
        };
        let mut name = String::new();
        // unique in the whole tree when possible, always unique in the branch
        for attempt in 0..10_000 {
            name = format!("{}{}", self.rng.weighted(SURNAMES), self.rng.pick(pool));
            if !taken.contains(&name) && (attempt > 5_000 || !self.names.contains(&name)) {
                break;
            }
        }
        taken.insert(name.clone());
        self.names.insert(name.clone());
        name
    }

    fn id_number(&mut self, area: &str, birth: Date, gender: Gender) -> IdNumber {
        let parity = if gender == Gender::Male {
            [1, 3, 5, 7, 9]
        } else {
            [0, 2, 4, 6, 8]
        };
        loop {
            let seq = self.rng.below(100) * 10 + self.rng.pick(&parity);
            if seq == 0 {
                continue;
            }
            let first17 = format!(
                "{area}{:04}{:02}{:02}{seq:03}",
                birth.year(),
                u8::from(birth.month()),
                birth.day()
            );
            let mut raw = first17.clone().into_bytes();
            raw.push(check_char(first17.as_bytes()));
            let raw = String::from_utf8_lossy(&raw).into_owned();
            if self.ids.contains(&raw) {
                continue;
            }
            if let Ok(id) = IdNumber::parse(&raw) {
                self.ids.insert(raw);
                return id;
            }
        }
    }

    fn phone(&mut self) -> String {
        loop {
            let phone = format!(
                "{}{:08}",
                self.rng.pick(PHONE_PREFIXES),
                self.rng.below(100_000_000)
            );
            if self.phones.insert(phone.clone()) {
                return phone;
            }
        }
    }

    fn education(&mut self, profile: Profile, category: PersonCategory, age: i32, phd: bool) -> &'static str {
        use PersonCategory::*;
        let edu = match (profile, category) {
            (Profile::Undergrad, Student) => EDU_HIGH,
            (Profile::Graduate, Student) => {
                if phd {
                    EDU_MASTER
                } else {
                    EDU_BACHELOR
                }
            }
            (Profile::Undergrad | Profile::Graduate, _) => EDU_MASTER,
            (Profile::Faculty, _) if age >= 30 => self.rng.weighted(&[(EDU_DOCTOR, 75), (EDU_MASTER, 25)]),
            (Profile::Faculty, _) => self.rng.weighted(&[(EDU_DOCTOR, 45), (EDU_MASTER, 55)]),
            (Profile::Office, _) if age > 50 => {
                self.rng
                    .weighted(&[(EDU_BACHELOR, 55), (EDU_COLLEGE, 30), (EDU_MASTER, 15)])
            }
            (Profile::Office, _) => {
                self.rng
                    .weighted(&[(EDU_MASTER, 35), (EDU_BACHELOR, 58), (EDU_COLLEGE, 7)])
            }
            (Profile::Enterprise, _) => self.rng.weighted(&[
                (EDU_MASTER, 15),
                (EDU_BACHELOR, 55),
                (EDU_COLLEGE, 25),
                (EDU_VOCATIONAL, 5),
            ]),
            (Profile::Joint, _) => {
                self.rng
                    .weighted(&[(EDU_MASTER, 20), (EDU_BACHELOR, 55), (EDU_COLLEGE, 25)])
            }
            (_, Retired) => self.rng.weighted(&[
                (EDU_BACHELOR, 30),
                (EDU_COLLEGE, 28),
                (EDU_VOCATIONAL, 20),
                (EDU_HIGH, 22),
            ]),
            (_, Unemployed) => self
                .rng
                .weighted(&[(EDU_HIGH, 40), (EDU_VOCATIONAL, 35), (EDU_COLLEGE, 25)]),
            (_, Relief) => self.rng.weighted(&[(EDU_HIGH, 60), (EDU_VOCATIONAL, 40)]),
            (_, Farmer) => self
                .rng
                .weighted(&[(EDU_HIGH, 55), (EDU_VOCATIONAL, 30), (EDU_COLLEGE, 15)]),
            (Profile::Mobile, _) => {
                self.rng
                    .weighted(&[(EDU_COLLEGE, 50), (EDU_BACHELOR, 30), (EDU_HIGH, 20)])
            }
            (_, _) => self
                .rng
                .weighted(&[(EDU_BACHELOR, 50), (EDU_COLLEGE, 40), (EDU_MASTER, 10)]),
        };
        // nobody finishes a degree too young
        match edu {
            EDU_DOCTOR if age < 27 => EDU_MASTER,
            EDU_MASTER if age < 24 => EDU_BACHELOR,
            other => other,
        }
    }

    fn work_unit(
        &mut self,
        spec: &BranchSpec,
        category: PersonCategory,
        role: Role,
        birth: Date,
        phd: bool,
    ) -> String {
        use PersonCategory::*;
        if role == Role::Secretary {
            return spec.secretary_title.to_owned();
        }
        let today = self.today;
        let age = age_on(birth, today);
        match (spec.profile, category) {
            (Profile::Office | Profile::Enterprise | Profile::Faculty | Profile::Joint, _) => {
                let mut level: usize = match age {
                    ..28 => 0,
                    28..35 => 1,
                    35..45 => 2,
                    _ => 3,
                };
                if level > 0 && self.rng.percent(30) {
                    level -= 1;
                }
                if role == Role::Committee {
                    level = level.max(2);
                }
                let dept = self.rng.pick(spec.depts);
                format!(
                    "{}{dept}{}",
                    spec.unit,
                    spec.ladder[level.min(spec.ladder.len() - 1)]
                )
            }
            (Profile::Undergrad | Profile::Graduate, _) => {
                // the academic year starts in September
                let year_now = if u8::from(today.month()) >= 9 {
                    today.year()
                } else {
                    today.year() - 1
                };
                let (entered, years, level) = match spec.profile {
                    Profile::Undergrad => (birth.year() + 18, 4, "本科生"),
                    _ if phd => (birth.year() + 22, 4, "博士研究生"),
                    _ => (birth.year() + 22, 3, "硕士研究生"),
                };
                let entered = entered.clamp(year_now - years + 1, year_now);
                let dept = self.rng.pick(spec.depts);
                format!("{}{dept}{entered}级{level}", spec.unit)
            }
            (Profile::Retired, _) => {
                let unit = self.rng.pick(&[
                    "滨江新区区委办公室",
                    "滨江新区发展和改革局",
                    "滨江新区财政局",
                    "滨江新区教育局",
                    "滨江新区人民法院",
                    "滨江新区卫生健康委员会",
                    "滨江新区住房和城乡建设局",
                    "滨江新区人民检察院",
                    "滨江新区人力资源和社会保障局",
                ]);
                let title = self.rng.pick(&[
                    "副处级干部",
                    "调研员",
                    "副调研员",
                    "科长",
                    "副科长",
                    "主任科员",
                    "干部",
                ]);
                format!("原{unit}{title}（已退休）")
            }
            (_, Retired) => {
                let unit = self.rng.pick(&[
                    "滨江机械厂",
                    "南京第二纺织厂",
                    "滨江供销合作社",
                    "滨江区人民医院",
                    "滨江中学",
                    "南京长江造船厂",
                    "滨江粮食管理所",
                ]);
                format!("{unit}退休职工")
            }
            (_, Unemployed) => "无固定工作".to_owned(),
            (_, Relief) => "无（享受最低生活保障）".to_owned(),
            (_, Farmer) => self
                .rng
                .pick(&[
                    "顺达物流有限公司快递员",
                    "滨江建工集团建筑工人",
                    "城市骑手外卖配送员",
                    "恒通货运车队货车司机",
                    "鑫源家政服务有限公司保洁员",
                    "江南食府厨师",
                    "美家装饰工程有限公司装修工",
                ])
                .to_owned(),
            (Profile::Mobile, _) => self
                .rng
                .pick(&[
                    "顺达物流有限公司调度员",
                    "滨江建工集团施工员",
                    "恒通货运车队副队长",
                    "江南食府店长",
                    "美家装饰工程有限公司项目经理",
                ])
                .to_owned(),
            (_, _) => self
                .rng
                .pick(&[
                    "江畔社区居民委员会社区工作者",
                    "江畔社区网格员",
                    "江畔物业服务有限公司客服主管",
                    "滨江新区第一幼儿园教师",
                    "滨江惠民超市店长",
                    "滨江新区社区卫生服务中心护士",
                    "个体工商户",
                ])
                .to_owned(),
        }
    }
}

/// Ages (full years on `today`) that fit the branch, the category and the role.
fn age_range(profile: Profile, category: PersonCategory, role: Role) -> (i32, i32) {
    use PersonCategory::*;
    match (profile, category, role) {
        (Profile::Undergrad, Student, _) => (18, 23),
        (Profile::Graduate, Student, _) => (22, 26),
        (Profile::Undergrad | Profile::Graduate, _, _) => (29, 36),
        (Profile::Faculty, _, Role::Secretary) => (42, 55),
        (Profile::Faculty, _, Role::Committee) => (32, 56),
        (Profile::Faculty, _, Role::Ordinary) => (28, 60),
        (Profile::Retired, _, Role::Secretary) => (62, 70),
        (Profile::Retired, _, Role::Committee) => (60, 75),
        (_, Retired, _) => (58, 88),
        (Profile::Community | Profile::Mobile, InService, Role::Secretary) => (40, 52),
        (Profile::Community, InService, _) => (25, 55),
        (_, Unemployed, _) => (30, 57),
        (_, Relief, _) => (35, 70),
        (_, Farmer, _) => (23, 55),
        (Profile::Mobile, _, _) => (25, 52),
        (_, _, Role::Secretary) => (40, 54),
        (_, _, Role::Committee) => (30, 55),
        (_, _, Role::Ordinary) => (23, 58),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;

    fn day(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
    }

    fn today() -> Date {
        day(2026, 11, 25)
    }

    /// The branch a person's org stands for (their own branch, or their group's).
    fn branch_of(tree: &DemoTree, org: usize) -> usize {
        match tree.orgs[org].kind {
            OrgKind::Group => tree.orgs[org].parent.unwrap(),
            _ => org,
        }
    }

    fn term_end(org: &DemoOrg) -> Option<Date> {
        Some(add_years(
            org.term_started_on?,
            i32::try_from(org.term_years?).unwrap(),
        ))
    }

    fn posts_of(tree: &DemoTree, person: usize) -> Vec<&DemoPost> {
        tree.posts.iter().filter(|p| p.person == person).collect()
    }

    fn check_dates(tree: &DemoTree, today: Date) {
        use EventKind::*;
        const ORDER: [EventKind; 5] = [Apply, BecomeActivist, BecomeCandidate, Admit, Regularize];
        for p in &tree.people {
            let kinds: Vec<EventKind> = p.history.iter().map(|h| h.0).collect();
            let expected: &[EventKind] = match p.status {
                MemberStatus::Applicant => &ORDER[..1],
                MemberStatus::Activist => &ORDER[..2],
                MemberStatus::Candidate => &ORDER[..3],
                MemberStatus::Probationary => &ORDER[..4],
                MemberStatus::Formal => &ORDER[..5],
                MemberStatus::Deceased => &[
                    Apply,
                    BecomeActivist,
                    BecomeCandidate,
                    Admit,
                    Regularize,
                    Deceased,
                ],
                other => panic!("unexpected status {other:?} for {}", p.name),
            };
            assert_eq!(kinds, expected, "{} ({:?})", p.name, p.status);
            assert!(
                p.history.windows(2).all(|w| w[0].1 < w[1].1),
                "{} history out of order",
                p.name
            );
            assert!(
                p.history.iter().all(|h| h.1 <= today),
                "{} has a future event",
                p.name
            );
            let date = |k: EventKind| p.history.iter().find(|h| h.0 == k).map(|h| h.1);
            let applied = date(Apply).unwrap();
            assert!(
                applied >= add_years(p.birth_date, 18),
                "{} applied before 18",
                p.name
            );
            if let Some(activist) = date(BecomeActivist) {
                assert!(activist >= add_months(applied, 6), "{}", p.name);
            }
            if let (Some(activist), Some(candidate)) = (date(BecomeActivist), date(BecomeCandidate)) {
                assert!(candidate >= add_years(activist, 1), "{}", p.name);
            }
            assert_eq!(p.joined_on, date(Admit), "{}", p.name);
            assert_eq!(p.regularized_on, date(Regularize), "{}", p.name);
            if let Some(joined) = p.joined_on {
                assert!(
                    joined >= add_years(p.birth_date, 18) && joined <= today,
                    "{}",
                    p.name
                );
            }
            match p.status {
                MemberStatus::Formal | MemberStatus::Deceased => {
                    let joined = p.joined_on.unwrap();
                    assert_eq!(p.regularized_on, Some(add_years(joined, 1)), "{}", p.name);
                    assert!(p.regularized_on.unwrap() <= today, "{}", p.name);
                }
                MemberStatus::Probationary => {
                    assert!(p.joined_on.unwrap() > add_years(today, -1), "{}", p.name);
                    assert_eq!(p.regularized_on, None);
                }
                _ => assert_eq!((p.joined_on, p.regularized_on), (None, None), "{}", p.name),
            }
        }
    }

    #[test]
    fn the_same_day_gives_the_same_tree() {
        assert_eq!(generate(today()), generate(today()));
    }

    #[test]
    fn there_are_between_550_and_650_people() {
        let n = generate(today()).people.len();
        assert!((550..=650).contains(&n), "{n} people");
    }

    #[test]
    fn there_are_12_to_14_branches_under_one_committee_and_three_general_branches() {
        let tree = generate(today());
        let count = |k: OrgKind| tree.orgs.iter().filter(|o| o.kind == k).count();
        assert!((12..=14).contains(&count(OrgKind::Branch)));
        assert_eq!(count(OrgKind::Committee), 1);
        assert_eq!(count(OrgKind::GeneralBranch), 3);
        assert_eq!(tree.orgs[0].kind, OrgKind::Committee);
        assert_eq!(tree.orgs[0].parent, None);
        let types: Vec<BranchType> = tree.orgs.iter().filter_map(|o| o.branch_type).collect();
        assert_eq!(types.len(), count(OrgKind::Branch));
        assert_eq!(types.iter().filter(|t| **t == BranchType::Mobile).count(), 1);
        assert_eq!(types.iter().filter(|t| **t == BranchType::Joint).count(), 1);
    }

    #[test]
    fn every_id_number_parses_is_unique_and_agrees_with_birth_date_and_gender() {
        let tree = generate(today());
        let mut seen = HashSet::new();
        for p in &tree.people {
            let id = IdNumber::parse(p.id_number.as_str()).unwrap();
            assert!(seen.insert(id.as_str().to_owned()), "duplicate id for {}", p.name);
            assert_eq!(id.birth_date(), p.birth_date, "{}", p.name);
            assert_eq!(id.is_male(), p.gender == Gender::Male, "{}", p.name);
        }
    }

    #[test]
    fn phones_are_unique_11_digit_mobile_numbers() {
        let tree = generate(today());
        let mut seen = HashSet::new();
        for p in &tree.people {
            assert_eq!(p.phone.len(), 11, "{}", p.phone);
            assert!(p.phone.bytes().all(|b| b.is_ascii_digit()), "{}", p.phone);
            assert!(
                matches!(&p.phone[..2], "13" | "15" | "17" | "18" | "19"),
                "{}",
                p.phone
            );
            assert!(seen.insert(p.phone.clone()), "duplicate phone {}", p.phone);
        }
    }

    #[test]
    fn parents_come_before_children_and_kinds_nest() {
        let tree = generate(today());
        for (i, o) in tree.orgs.iter().enumerate() {
            match o.parent {
                None => assert_eq!(o.kind, OrgKind::Committee),
                Some(p) => {
                    assert!(p < i, "{} comes before its parent", o.name);
                    assert!(
                        o.kind.may_be_child_of(tree.orgs[p].kind),
                        "{} under {}",
                        o.name,
                        tree.orgs[p].name
                    );
                    assert!(o.established_on >= tree.orgs[p].established_on, "{}", o.name);
                }
            }
            assert_eq!(o.branch_type.is_some(), o.kind == OrgKind::Branch, "{}", o.name);
            assert_eq!(
                o.term_started_on.is_some(),
                o.kind != OrgKind::Group,
                "{}",
                o.name
            );
            assert_eq!(o.term_years.is_some(), o.kind != OrgKind::Group, "{}", o.name);
            if let Some(start) = o.term_started_on {
                assert!(o.established_on <= start && start <= today(), "{}", o.name);
            }
            assert!(o.established_on <= today());
        }
        for p in &tree.people {
            assert!(
                tree.orgs[p.org].kind.holds_members(),
                "{} sits on {}",
                p.name,
                tree.orgs[p.org].name
            );
        }
    }

    #[test]
    fn the_demo_logins_belong_to_the_first_branch_with_their_roles() {
        let tree = generate(today());
        let first = tree.orgs.iter().position(|o| o.kind == OrgKind::Branch).unwrap();
        assert_eq!(tree.first_branch, first);
        assert_eq!(tree.orgs[first].name, "区委办公室党支部");
        let in_first: Vec<&DemoPerson> = tree
            .people
            .iter()
            .filter(|p| branch_of(&tree, p.org) == first && p.status.is_member())
            .collect();
        assert!((40..=50).contains(&in_first.len()), "{} members", in_first.len());

        let logins = [tree.secretary, tree.member, tree.staff];
        assert_eq!(logins.iter().collect::<HashSet<_>>().len(), 3);
        for i in logins {
            assert_eq!(branch_of(&tree, tree.people[i].org), first);
            assert_eq!(tree.people[i].status, MemberStatus::Formal);
        }
        let secretary_posts = posts_of(&tree, tree.secretary);
        assert_eq!(secretary_posts.len(), 1);
        assert_eq!(
            (secretary_posts[0].org, secretary_posts[0].post),
            (first, CommitteePost::Secretary)
        );
        assert!(posts_of(&tree, tree.member).is_empty());
        assert!(posts_of(&tree, tree.staff).is_empty());
    }

    #[test]
    fn exactly_one_branch_term_has_expired_and_another_ends_within_60_days() {
        let today = today();
        let tree = generate(today);
        let branches: Vec<&DemoOrg> = tree.orgs.iter().filter(|o| o.kind == OrgKind::Branch).collect();
        let expired: Vec<Date> = branches
            .iter()
            .filter_map(|o| term_end(o))
            .filter(|e| *e <= today)
            .collect();
        assert_eq!(expired.len(), 1);
        assert!(expired[0] <= add_months(today, -1) && expired[0] >= add_months(today, -3));
        let soon = branches
            .iter()
            .filter_map(|o| term_end(o))
            .filter(|e| *e > today && *e <= add_days(today, 60))
            .count();
        assert_eq!(soon, 1);
        for o in tree
            .orgs
            .iter()
            .filter(|o| o.kind != OrgKind::Branch && o.kind != OrgKind::Group)
        {
            assert!(term_end(o).unwrap() > add_days(today, 60), "{}", o.name);
            let years = if o.kind == OrgKind::Committee { 5 } else { 3 };
            assert_eq!(o.term_years, Some(years));
        }
    }

    #[test]
    fn statuses_and_dates_are_consistent() {
        check_dates(&generate(today()), today());
    }

    #[test]
    fn the_tree_is_consistent_on_other_days_too() {
        for today in [day(2024, 2, 29), day(2025, 3, 31), day(2031, 8, 31)] {
            let tree = generate(today);
            check_dates(&tree, today);
            assert!(
                tree.people
                    .iter()
                    .all(|p| IdNumber::parse(p.id_number.as_str()).is_ok())
            );
        }
    }

    #[test]
    fn no_branch_has_two_people_with_the_same_full_name() {
        let tree = generate(today());
        let mut seen: HashSet<(usize, &str)> = HashSet::new();
        for p in &tree.people {
            assert!(
                p.name.chars().count() >= 2 && p.name.chars().count() <= 3,
                "{}",
                p.name
            );
            assert!(
                seen.insert((branch_of(&tree, p.org), &p.name)),
                "two {} in one branch",
                p.name
            );
        }
    }

    #[test]
    fn the_status_mix_is_mostly_formal_with_some_probationary_and_pipeline() {
        let tree = generate(today());
        let n = tree.people.len();
        let count = |f: &dyn Fn(MemberStatus) -> bool| tree.people.iter().filter(|p| f(p.status)).count();
        let formal = count(&|s| s == MemberStatus::Formal);
        let probationary = count(&|s| s == MemberStatus::Probationary);
        let pipeline = count(&|s| s.in_pipeline());
        let former = count(&|s| s.is_former());
        assert!(formal * 100 >= n * 70, "{formal} formal of {n}");
        assert!(
            (5..=11).contains(&(probationary * 100 / n)),
            "{probationary} probationary of {n}"
        );
        assert!(
            (7..=14).contains(&(pipeline * 100 / n)),
            "{pipeline} in the pipeline of {n}"
        );
        assert!(former <= 2);
        for p in tree.people.iter().filter(|p| p.status.is_former()) {
            assert_eq!(tree.orgs[branch_of(&tree, p.org)].category, OrgCategory::Retired);
        }
    }

    #[test]
    fn categories_ages_and_education_fit_the_branch() {
        let today = today();
        let tree = generate(today);
        for p in &tree.people {
            let age = age_on(p.birth_date, today);
            let (lo, hi) = match p.category {
                PersonCategory::Student => (18, 26),
                PersonCategory::Retired => (58, 88),
                PersonCategory::InService => (23, 60),
                _ => (18, 75),
            };
            assert!((lo..=hi).contains(&age), "{} is {age}, {:?}", p.name, p.category);
            let branch = &tree.orgs[branch_of(&tree, p.org)];
            let fits = match branch.category {
                OrgCategory::Government | OrgCategory::Enterprise => p.category == PersonCategory::InService,
                OrgCategory::Retired => p.category == PersonCategory::Retired,
                OrgCategory::University => {
                    matches!(p.category, PersonCategory::InService | PersonCategory::Student)
                }
                _ => true,
            };
            assert!(fits, "{} ({:?}) in {}", p.name, p.category, branch.name);
            let min_age = match p.education.as_str() {
                "博士研究生" => 27,
                "硕士研究生" => 24,
                "大学本科" => 22,
                "大学专科" => 21,
                "高中" | "中专" => 17,
                other => panic!("education {other}"),
            };
            assert!(age >= min_age, "{} is {age} with {}", p.name, p.education);
            assert!(!p.work_unit.is_empty() && !p.ethnicity.is_empty());
        }
        // students fill the student branches (all but their secretary)
        for o in tree
            .orgs
            .iter()
            .enumerate()
            .filter(|(_, o)| o.name.ends_with("生党支部"))
        {
            let people: Vec<&DemoPerson> = tree
                .people
                .iter()
                .filter(|p| branch_of(&tree, p.org) == o.0)
                .collect();
            let students = people
                .iter()
                .filter(|p| p.category == PersonCategory::Student)
                .count();
            assert_eq!(students + 1, people.len(), "{}", o.1.name);
        }
        let han = tree.people.iter().filter(|p| p.ethnicity == "汉族").count();
        assert!(han * 100 >= tree.people.len() * 85 && han < tree.people.len());
    }

    #[test]
    fn every_branch_has_a_formal_secretary_and_committees_fit_its_size() {
        let today = today();
        let tree = generate(today);
        let mut by_org: BTreeMap<usize, Vec<&DemoPost>> = BTreeMap::new();
        for p in &tree.posts {
            by_org.entry(p.org).or_default().push(p);
            let person = &tree.people[p.person];
            assert_eq!(person.status, MemberStatus::Formal, "{}", person.name);
            assert!(person.joined_on.unwrap() <= add_years(today, -1));
        }
        for (i, o) in tree.orgs.iter().enumerate() {
            let posts = by_org.get(&i).cloned().unwrap_or_default();
            let secretaries = posts
                .iter()
                .filter(|p| p.post == CommitteePost::Secretary)
                .count();
            let leaders = posts
                .iter()
                .filter(|p| p.post == CommitteePost::GroupLeader)
                .count();
            match o.kind {
                OrgKind::Group => {
                    assert_eq!((secretaries, leaders, posts.len()), (0, 1, 1), "{}", o.name);
                    assert_eq!(
                        branch_of(&tree, tree.people[posts[0].person].org),
                        o.parent.unwrap()
                    );
                    assert_eq!(
                        tree.people[posts[0].person].org, i,
                        "the leader of {} sits in it",
                        o.name
                    );
                }
                OrgKind::Branch => {
                    assert_eq!((secretaries, leaders), (1, 0), "{}", o.name);
                    let formal = tree
                        .people
                        .iter()
                        .filter(|p| branch_of(&tree, p.org) == i && p.status == MemberStatus::Formal)
                        .count();
                    if formal >= 7 {
                        assert!(
                            (3..=5).contains(&posts.len()),
                            "{}: {} posts",
                            o.name,
                            posts.len()
                        );
                    }
                    for post in &posts {
                        assert_eq!(
                            tree.people[post.person].org, i,
                            "committee of {} sits on it",
                            o.name
                        );
                    }
                    let distinct: HashSet<CommitteePost> = posts.iter().map(|p| p.post).collect();
                    assert_eq!(distinct.len(), posts.len());
                }
                _ => {
                    assert_eq!(secretaries, 1, "{}", o.name);
                    // holders come from the branches below
                    for post in &posts {
                        let mut org = Some(branch_of(&tree, tree.people[post.person].org));
                        while let Some(x) = org.filter(|x| *x != i) {
                            org = tree.orgs[x].parent;
                        }
                        assert_eq!(org, Some(i), "{} holder from outside", o.name);
                    }
                }
            }
        }
    }

    #[test]
    fn larger_branches_have_two_to_four_groups_holding_most_members() {
        let tree = generate(today());
        let mut groups: HashMap<usize, usize> = HashMap::new();
        for o in tree.orgs.iter().filter(|o| o.kind == OrgKind::Group) {
            *groups.entry(o.parent.unwrap()).or_default() += 1;
        }
        for (i, o) in tree
            .orgs
            .iter()
            .enumerate()
            .filter(|(_, o)| o.kind == OrgKind::Branch)
        {
            let people: Vec<&DemoPerson> = tree
                .people
                .iter()
                .filter(|p| branch_of(&tree, p.org) == i)
                .collect();
            assert!((12..=60).contains(&people.len()), "{}: {}", o.name, people.len());
            let n = groups.get(&i).copied().unwrap_or(0);
            if people.len() >= 30 {
                assert!((2..=4).contains(&n), "{}: {n} groups", o.name);
                let on_branch = people.iter().filter(|p| p.org == i).count();
                assert!(
                    on_branch * 4 < people.len(),
                    "{}: {on_branch} on the branch",
                    o.name
                );
            } else {
                assert_eq!(n, 0, "{}", o.name);
            }
        }
    }
}
