/** The demo brand's reference data: names, places and an outdoor-gear catalog. */

export const FIRST_NAMES = [
  'Ann',
  'Ben',
  'Carla',
  'David',
  'Elena',
  'Frank',
  'Grace',
  'Hugo',
  'Iris',
  'Jack',
  'Karen',
  'Liam',
  'Maya',
  'Noah',
  'Olivia',
  'Paul',
  'Quinn',
  'Rosa',
  'Sam',
  'Tara',
  'Umar',
  'Vera',
  'Will',
  'Xena',
  'Yusuf',
  'Zoe',
  'Aiden',
  'Bella',
  'Caleb',
  'Diana',
  'Ethan',
  'Fiona',
  'Gabriel',
  'Hannah',
  'Isaac',
  'Julia',
  'Kevin',
  'Laura',
  'Mateo',
  'Nina',
  'Oscar',
  'Priya',
  'Rahul',
  'Sofia',
  'Theo',
  'Uma',
  'Victor',
  'Wendy',
  'Xavier',
  'Yara',
] as const;

export const LAST_NAMES = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Allen',
  'King',
  'Wright',
  'Scott',
  'Torres',
  'Nguyen',
  'Hill',
  'Flores',
  "O'Brien",
  'Adams',
  'Nelson',
  'Baker',
  'Hall',
  'Rivera',
  'Campbell',
  'Mitchell',
  'Carter',
  'Roberts',
] as const;

export const EMAIL_DOMAINS = [
  'gmail.com',
  'yahoo.com',
  'outlook.com',
  'icloud.com',
  'hotmail.com',
  'proton.me',
  'aol.com',
] as const;

/** City, state code, state name, ZIP prefix, IANA time zone, area code. */
/** Street names for demo postal addresses. */
export const STREETS = [
  'Main St',
  'Oak Ave',
  'Maple Dr',
  'Cedar Ln',
  'Park Blvd',
  'Elm St',
  'Lakeview Rd',
  'Hillcrest Way',
  'Sunset Ave',
  'River Rd',
  'Washington St',
  'Pine Ct',
];

export const CITIES = [
  ['San Francisco', 'CA', 'California', '941', 'America/Los_Angeles', '415'],
  ['Los Angeles', 'CA', 'California', '900', 'America/Los_Angeles', '213'],
  ['Seattle', 'WA', 'Washington', '981', 'America/Los_Angeles', '206'],
  ['Portland', 'OR', 'Oregon', '972', 'America/Los_Angeles', '503'],
  ['Denver', 'CO', 'Colorado', '802', 'America/Denver', '303'],
  ['Austin', 'TX', 'Texas', '787', 'America/Chicago', '512'],
  ['Chicago', 'IL', 'Illinois', '606', 'America/Chicago', '312'],
  ['New York', 'NY', 'New York', '100', 'America/New_York', '212'],
  ['Boston', 'MA', 'Massachusetts', '021', 'America/New_York', '617'],
  ['Atlanta', 'GA', 'Georgia', '303', 'America/New_York', '404'],
  ['Miami', 'FL', 'Florida', '331', 'America/New_York', '305'],
  ['Minneapolis', 'MN', 'Minnesota', '554', 'America/Chicago', '612'],
] as const;

export interface Product {
  id: string;
  name: string;
  category: string;
  price: number;
}

const LINES: [string, string[], number, number][] = [
  ['Tents', ['Ridge 2P Tent', 'Basecamp 4P Tent', 'Ultralight 1P Tent', 'Family Cabin Tent'], 149, 599],
  ['Sleeping Bags', ['Down Bag 20F', 'Synthetic Bag 35F', 'Kids Sleeping Bag', 'Quilt 30F'], 69, 379],
  ['Backpacks', ['Daypack 22L', 'Trail Pack 45L', 'Expedition 70L', 'Hydration Pack 12L'], 49, 329],
  ['Footwear', ['Trail Runner', 'Hiking Boot Mid', 'Approach Shoe', 'Camp Sandal'], 39, 229],
  ['Apparel', ['Rain Shell', 'Fleece Jacket', 'Merino Base Layer', 'Hiking Pants', 'Sun Hoody'], 29, 299],
  ['Cooking', ['Canister Stove', 'Titanium Pot', 'Camp Mug', 'Water Filter'], 14, 149],
  ['Accessories', ['Headlamp', 'Trekking Poles', 'Map Case', 'First Aid Kit', 'Dry Bag 10L'], 9, 129],
];

/** A fixed catalog, the same for every seed. */
export const PRODUCTS: Product[] = LINES.flatMap(([category, names, low, high], li) =>
  names.map((name, ni) => ({
    id: `P${String(li * 10 + ni + 1).padStart(3, '0')}`,
    name,
    category,
    price: Math.round((low + ((high - low) * ((ni * 37 + li * 13) % 100)) / 100) * 100) / 100 - 0.01,
  })),
);

export const PAGES = [
  { path: '/', name: 'Home' },
  { path: '/new', name: 'New Arrivals' },
  { path: '/sale', name: 'Sale' },
  { path: '/stores', name: 'Store Locator' },
  { path: '/journal/trail-guides', name: 'Trail Guides' },
  { path: '/help/returns', name: 'Returns' },
] as const;

export const USER_AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36',
] as const;
