// A small labelled library for hybrid search: 30 videos with a title, a summary and
// tags as an analyzer would write them, and a timed transcript as the transcript step stores
// it; and queries with the videos that answer them. Three kinds of query:
// - spoken: words only the transcript holds (nothing in any title, summary or tag);
// - semantic: the video's words misspelt or in another form the stemmer does not join
//   ("lighthose keper"), which the product's default embeddings (feature-hashed words and
//   character trigrams, src/adapters/analyzer/offline-analyzer.ts) still bring close, and
//   the full-text half cannot match;
// - both: a description's words, and two queries answered by one video through its transcript
//   and another through its description.

export interface LabelledVideo {
  id: string;
  /** The source file name: the title the analyzer saw. */
  file: string;
  summary: string;
  tags: string[];
  /** [startSec, endSec, text]. */
  transcript: [number, number, string][];
  /** The transcript's text-search configuration (the detected language). */
  tsConfig?: string;
  language?: string;
}

export interface LabelledQuery {
  q: string;
  kind: 'spoken' | 'semantic' | 'both';
  relevant: string[];
}

export const LIBRARY: LabelledVideo[] = [
  {
    id: 'lighthouse',
    file: 'lighthouse keeper.mp4',
    summary: 'An old lighthouse keeper climbs the spiral staircase and lights the lamp at dusk.',
    tags: ['lighthouse', 'coast', 'night'],
    transcript: [
      [0, 4, 'Every evening I climb one hundred and twelve steps.'],
      [4, 9, 'The fog horn has not worked since the winter storm of eighty seven.'],
      [9, 14, 'Ships still find their way, somehow.'],
    ],
  },
  {
    id: 'pasta',
    file: 'sunday pasta.mp4',
    summary: 'A home cook rolls fresh pasta dough and prepares a creamy sauce in a small kitchen.',
    tags: ['cooking', 'pasta', 'kitchen'],
    transcript: [
      [0, 5, 'First we knead the dough for ten minutes.'],
      [5, 11, 'Then add a pinch of nutmeg to the bechamel.'],
    ],
  },
  {
    id: 'marathon',
    file: 'city marathon.mp4',
    summary: 'Thousands of runners cross a bridge during a city marathon while spectators cheer.',
    tags: ['running', 'sport', 'city'],
    transcript: [
      [0, 6, 'My knees were screaming at kilometre thirty.'],
      [6, 12, 'Drink water at every station, the coach told us.'],
    ],
  },
  {
    id: 'bees',
    file: 'backyard bees.mp4',
    summary: 'A beekeeper in protective gear inspects honeycomb frames from a wooden hive.',
    tags: ['bees', 'honey', 'garden'],
    transcript: [
      [0, 5, 'Smoke calms the colony before we open the lid.'],
      [5, 10, 'This queen was marked with a blue dot last spring.'],
    ],
  },
  {
    id: 'volcano',
    file: 'volcano hike.mp4',
    summary: 'Hikers walk across black lava fields toward a steaming volcanic crater.',
    tags: ['volcano', 'hiking', 'iceland'],
    transcript: [[0, 6, 'The sulphur smell hits you before you see the vent.']],
  },
  {
    id: 'skate',
    file: 'skatepark session.mp4',
    summary: 'Skateboarders perform kickflips and grinds at an outdoor concrete skatepark.',
    tags: ['skateboarding', 'sport', 'tricks'],
    transcript: [[0, 4, 'I broke my wrist here two summers ago.']],
  },
  {
    id: 'chess',
    file: 'chess tournament.mp4',
    summary: 'Two players face off in a tense endgame at a rapid chess tournament.',
    tags: ['chess', 'tournament', 'games'],
    transcript: [[0, 5, "He sacrificed the rook to open the king's diagonal."]],
  },
  {
    id: 'aquarium',
    file: 'reef aquarium.mp4',
    summary: 'Clownfish and anemones drift in a brightly lit saltwater reef aquarium.',
    tags: ['aquarium', 'fish', 'reef'],
    transcript: [[0, 6, 'Keep the salinity at one point zero two five.']],
  },
  {
    id: 'bicycle',
    file: 'fixing a flat.mp4',
    summary: 'A mechanic replaces the inner tube of a road bicycle in a workshop.',
    tags: ['bicycle', 'repair', 'workshop'],
    transcript: [[0, 5, 'Use two tire levers, never a screwdriver.']],
  },
  {
    id: 'hamburg',
    file: 'radtour hamburg.mp4',
    summary: 'Cyclists ride through the port city of Hamburg past canals and warehouses.',
    tags: ['cycling', 'hamburg', 'germany'],
    transcript: [
      [0, 6, 'Wir fahren mit dem Fahrrad über die Brücken der Speicherstadt.'],
      [6, 12, 'Am Abend essen wir Fischbrötchen am Hafen.'],
    ],
    tsConfig: 'german',
    language: 'de',
  },
  {
    id: 'provence',
    file: 'marche provence.mp4',
    summary: 'Stalls of lavender, cheese and olives fill a sunny market square in Provence.',
    tags: ['market', 'france', 'food'],
    transcript: [[0, 5, 'Les fromages de chèvre viennent du village voisin.']],
    tsConfig: 'french',
    language: 'fr',
  },
  {
    id: 'ferry',
    file: 'morning crossing.mp4',
    summary: 'A car ferry crossing a harbor at sunrise with seagulls following the wake.',
    tags: ['ferry', 'harbor', 'sea'],
    transcript: [],
  },
  {
    id: 'commute',
    file: 'my commute.mp4',
    summary: 'A vlogger films his daily trip to work and talks about city life.',
    tags: ['vlog', 'commute', 'city'],
    transcript: [
      [0, 5, 'We take the harbour ferry every morning at seven.'],
      [5, 10, 'The coffee on board is terrible but the view is worth it.'],
    ],
  },
  {
    id: 'astronomy',
    file: 'backyard telescope.mp4',
    summary: 'An amateur astronomer points a telescope at Saturn and its rings.',
    tags: ['astronomy', 'telescope', 'night'],
    transcript: [[0, 6, "Jupiter's moons look like tiny pearls on a string."]],
  },
  {
    id: 'pottery',
    file: 'wheel throwing.mp4',
    summary: 'A potter centers clay on a spinning wheel and shapes a tall vase.',
    tags: ['pottery', 'clay', 'craft'],
    transcript: [[0, 5, 'Wet your hands often or the clay will tear.']],
  },
  {
    id: 'surfing',
    file: 'big wave day.mp4',
    summary: 'Surfers paddle into huge waves off a rocky point break.',
    tags: ['surfing', 'ocean', 'waves'],
    transcript: [[0, 5, 'The swell period was eighteen seconds this morning.']],
  },
  {
    id: 'origami',
    file: 'paper crane.mp4',
    summary: 'Hands fold a square sheet of paper into a traditional crane.',
    tags: ['origami', 'paper', 'craft'],
    transcript: [[0, 4, 'Crease firmly along the diagonal.']],
  },
  {
    id: 'snow',
    file: 'first snowfall.mp4',
    summary: 'Children build a snowman and throw snowballs in a quiet village street.',
    tags: ['snow', 'winter', 'kids'],
    transcript: [[0, 5, 'Grandpa lent us his old scarf and a carrot.']],
  },
  {
    id: 'brisket',
    file: 'smoked brisket.mp4',
    summary: 'A pitmaster trims and smokes a beef brisket for twelve hours over oak.',
    tags: ['barbecue', 'beef', 'cooking'],
    transcript: [[0, 5, 'Wrap it in butcher paper when the bark sets.']],
  },
  {
    id: 'drone',
    file: 'coastline drone.mp4',
    summary: 'Aerial drone footage glides over cliffs, coves and turquoise water.',
    tags: ['drone', 'aerial', 'coast'],
    transcript: [],
  },
  {
    id: 'piano',
    file: 'piano practice.mp4',
    summary: 'A student practices scales and a Chopin nocturne on an upright piano.',
    tags: ['piano', 'music', 'practice'],
    transcript: [[0, 6, 'Keep your wrists loose and let the thumb pass under.']],
  },
  {
    id: 'knitting',
    file: 'cozy knitting.mp4',
    summary: 'Close-up of needles knitting a striped wool scarf by the fireplace.',
    tags: ['knitting', 'wool', 'craft'],
    transcript: [[0, 5, 'Purl two, knit two, and repeat to the end of the row.']],
  },
  {
    id: 'train',
    file: 'night train.mp4',
    summary: 'Views from a sleeper train crossing snowy mountains at night.',
    tags: ['train', 'travel', 'mountains'],
    transcript: [[0, 6, 'The conductor woke us at the border for passports.']],
  },
  {
    id: 'tomatoes',
    file: 'tomato garden.mp4',
    summary: 'A gardener prunes tomato plants and ties them to bamboo stakes.',
    tags: ['garden', 'tomatoes', 'summer'],
    transcript: [[0, 5, 'Pinch out the side shoots every week.']],
  },
  {
    id: 'boxing',
    file: 'boxing gym.mp4',
    summary: 'Boxers skip rope and hit heavy bags in an old neighbourhood gym.',
    tags: ['boxing', 'fitness', 'gym'],
    transcript: [[0, 5, 'Keep your chin down and your guard up.']],
  },
  {
    id: 'sourdough',
    file: 'sourdough loaf.mp4',
    summary: 'A baker shapes a sourdough loaf and scores it before baking in a dutch oven.',
    tags: ['baking', 'bread', 'kitchen'],
    transcript: [[0, 6, 'My starter is called Clint Yeastwood.']],
  },
  {
    id: 'kayak',
    file: 'river kayak.mp4',
    summary: 'Kayakers run whitewater rapids on a narrow mountain river.',
    tags: ['kayaking', 'river', 'rapids'],
    transcript: [[0, 5, 'Lean downstream or you will flip.']],
  },
  {
    id: 'dovetail',
    file: 'dovetail joints.mp4',
    summary: 'A woodworker cuts hand dovetail joints in walnut with a saw and chisel.',
    tags: ['woodworking', 'craft', 'tools'],
    transcript: [[0, 5, 'Mark the waste side with a pencil cross.']],
  },
  {
    id: 'birds',
    file: 'bird feeder.mp4',
    summary: 'Sparrows, finches and a woodpecker visit a garden bird feeder in winter.',
    tags: ['birds', 'garden', 'winter'],
    transcript: [[0, 4, 'That red one is a cardinal, very rare here.']],
  },
  {
    id: 'yoga',
    file: 'sunrise yoga.mp4',
    summary: 'A yoga teacher leads a slow flow on a beach at sunrise.',
    tags: ['yoga', 'beach', 'fitness'],
    transcript: [[0, 6, 'Inhale and lift your arms, exhale and fold forward.']],
  },
];

export const QUERIES: LabelledQuery[] = [
  { q: 'pinch of nutmeg', kind: 'spoken', relevant: ['pasta'] },
  { q: 'fog horn', kind: 'spoken', relevant: ['lighthouse'] },
  { q: 'tire levers', kind: 'spoken', relevant: ['bicycle'] },
  { q: 'salinity', kind: 'spoken', relevant: ['aquarium'] },
  { q: 'sacrificed the rook', kind: 'spoken', relevant: ['chess'] },
  { q: 'Clint Yeastwood', kind: 'spoken', relevant: ['sourdough'] },
  { q: 'Brücke', kind: 'spoken', relevant: ['hamburg'] },
  { q: 'fromage de chèvre', kind: 'spoken', relevant: ['provence'] },
  { q: 'butcher paper', kind: 'spoken', relevant: ['brisket'] },
  { q: 'passports at the border', kind: 'spoken', relevant: ['train'] },
  { q: 'lighthose keper', kind: 'semantic', relevant: ['lighthouse'] },
  { q: 'skatebording kickflip', kind: 'semantic', relevant: ['skate'] },
  { q: 'beekeper honycomb', kind: 'semantic', relevant: ['bees'] },
  { q: 'clownfsh anemone', kind: 'semantic', relevant: ['aquarium'] },
  { q: 'telscope saturn', kind: 'semantic', relevant: ['astronomy'] },
  { q: 'potter vaze', kind: 'semantic', relevant: ['pottery'] },
  { q: 'snowmen snowbals', kind: 'semantic', relevant: ['snow'] },
  { q: 'whitewatr kayakers', kind: 'semantic', relevant: ['kayak'] },
  { q: 'dovetale joints', kind: 'semantic', relevant: ['dovetail'] },
  { q: 'woodpeckr feeder', kind: 'semantic', relevant: ['birds'] },
  { q: 'harbour ferry', kind: 'both', relevant: ['ferry', 'commute'] },
  { q: 'scarf', kind: 'both', relevant: ['knitting', 'snow'] },
  { q: 'sourdough bread', kind: 'both', relevant: ['sourdough'] },
  { q: 'chess endgame', kind: 'both', relevant: ['chess'] },
  { q: 'surfers big waves', kind: 'both', relevant: ['surfing'] },
  { q: 'tomato plants', kind: 'both', relevant: ['tomatoes'] },
];

/** Mean over queries of (relevant videos among the first k) / (relevant videos). */
export function recallAtK(ranked: Map<string, string[]>, queries: LabelledQuery[], k: number): number {
  let sum = 0;
  for (const query of queries) {
    const top = new Set((ranked.get(query.q) ?? []).slice(0, k));
    sum += query.relevant.filter((id) => top.has(id)).length / query.relevant.length;
  }
  return sum / queries.length;
}
