//! The phrase corpus that synthetic image prompts are built from.
//!
//! The reference tool cuts synthetic prompts out of Shakespeare; image servers
//! deserve prompts that read like image prompts. These lists are original
//! text written for imgperf: subjects, settings, scene details, styles, art
//! movements, lighting, camera and lens, colour palettes, moods and quality
//! tags. [`crate::synthetic`] starts each prompt with a subject and a setting,
//! then adds descriptors (after a comma) and scene details (as sentences).
//! No phrase ends in punctuation, so phrases join cleanly.

/// Who or what the image is of; each starts with a capital letter.
#[rustfmt::skip]
pub const SUBJECTS: &[&str] = &[
    "A weathered lighthouse keeper", "An origami crane made of newspaper", "A red fox",
    "A cute robot", "A serene mountain landscape", "An old fishing boat", "A snow leopard",
    "A tiny dragon curled around a teacup", "A bustling night market", "A glass greenhouse",
    "A lone astronaut", "A vintage motorcycle", "A cozy reading nook", "A giant sea turtle",
    "A hummingbird", "A floating island", "A steam locomotive", "An abandoned cathedral",
    "A girl in a yellow raincoat", "A wise old tortoise", "A futuristic city", "A koi pond",
    "A bowl of ramen", "A crystal cave", "A desert caravan", "A violin maker at work",
    "A treehouse village", "A polar bear cub", "A samurai in lacquered armor",
    "A field of sunflowers", "A rusty diving helmet", "A cat wearing a tiny crown",
    "A lighthouse", "An elderly couple dancing", "A hot air balloon", "A mechanical owl",
    "A cottage with a thatched roof", "A jazz trio", "A chess set carved from ice",
    "A herd of wild horses", "A street musician", "An ancient library", "A paper boat",
    "A marble statue of a runner", "A fleet of airships", "A mushroom forest",
    "A deer with glowing antlers", "A pastry chef", "A wooden pier", "A space station",
    "A stack of old books", "A beekeeper", "A coral reef", "A knight and a small dog",
    "A neon diner", "A windmill", "A sleeping giant made of moss", "A fisherman's hut",
    "A potted bonsai tree", "A portrait of a young botanist", "A pair of red sneakers",
];

/// Where the subject is or what it does; each continues a subject.
#[rustfmt::skip]
pub const SETTINGS: &[&str] = &[
    "standing on a basalt cliff above a stormy sea", "at sunset", "in a misty pine forest",
    "on a rain-soaked city street", "drifting above the clouds", "beside a frozen lake",
    "in a sunlit meadow full of wildflowers", "inside a cluttered workshop",
    "on the surface of a distant moon", "under a canopy of cherry blossoms",
    "in the middle of a busy train station", "on a quiet beach at low tide",
    "among the ruins of an old temple", "at the edge of a glacier",
    "in a greenhouse overgrown with ferns", "on a rooftop garden overlooking the harbor",
    "in a candlelit kitchen", "crossing a narrow rope bridge", "in a field of tall grass",
    "beneath a sky full of stars", "on a snowy mountain pass", "at a crowded harbor market",
    "inside a glass dome on the sea floor", "in a valley of red rock", "by a crackling campfire",
    "on the deck of a sailing ship", "in an autumn orchard", "in a flooded subway tunnel",
    "at the top of a spiral staircase", "in a bamboo grove", "playing with a kitten",
    "with flying cars overhead", "reading by a window on a rainy afternoon",
    "waiting at a bus stop in the snow", "surrounded by floating lanterns",
    "in a tide pool full of starfish", "on a wooden dock at dawn", "in a lavender field",
    "beside a waterfall in the jungle", "in a library with endless shelves",
    "on a windswept moor", "at a roadside diner in the desert", "in a foggy harbor",
    "among giant mushrooms", "in a sunken ship", "under a neon sign",
    "on a hill overlooking a medieval town", "in a tiny apartment full of plants",
    "in a vast salt flat", "inside a clock tower", "at a lantern festival",
    "near a volcano", "in a cave lit by glowworms", "on a frozen river",
];

/// Scene details, written as sentences of their own.
#[rustfmt::skip]
pub const DETAILS: &[&str] = &[
    "Fog drifts between the trunks of the trees", "Tiny lanterns hang from the rafters",
    "Rain beads on the glass", "A flock of birds crosses the sky",
    "Steam rises from a cup of tea", "Snowflakes catch the light",
    "Moss covers every stone", "Sparks fly from a grinding wheel",
    "The water reflects the sky like a mirror", "Petals swirl in the wind",
    "Clouds pile up over the distant hills", "A faint rainbow arcs over the valley",
    "Paper kites tangle in the branches", "Dust floats in the beams of light",
    "Waves crash against the rocks below", "The streets are wet and shining",
    "Ivy climbs the crumbling walls", "A small dog sleeps on the doorstep",
    "Fireflies blink in the tall grass", "Laundry flutters between the balconies",
    "An old map is spread across the table", "Frost patterns cover the window",
    "Smoke curls from the chimney", "The horizon glows a deep orange",
    "Bubbles rise toward the surface", "Wildflowers grow through the cracks",
    "A river winds through the valley below", "Shadows stretch across the floor",
    "Distant mountains fade into the haze", "Reflections ripple across the puddles",
    "A single candle flickers on the sill", "Leaves drift down onto the path",
    "The sand is covered in footprints", "A paper lantern glows in the dark",
    "Stars are scattered across a violet sky", "Vines hang from the ceiling",
    "Brass gears turn slowly in the background", "Puddles mirror the neon signs",
    "Sunlight filters through stained glass", "A thin mist hangs over the water",
    "Schools of silver fish circle overhead", "Pebbles line the bottom of the stream",
    "The air shimmers with heat", "Feathers float in the still air",
    "A crescent moon hangs low over the rooftops", "Old posters peel from the brick walls",
];

/// Rendering styles and media.
#[rustfmt::skip]
pub const STYLES: &[&str] = &[
    "watercolor illustration", "oil painting on canvas", "digital concept art",
    "photorealistic", "cinematic still", "children's book illustration",
    "ink and wash drawing", "low poly 3D render", "isometric pixel art",
    "claymation style", "papercut collage", "charcoal sketch", "stained glass design",
    "vintage travel poster", "linocut print", "gouache painting", "matte painting",
    "3D render with soft shading", "anime background art", "comic book panel",
    "pencil drawing with cross hatching", "woodblock print", "embroidered textile",
    "mosaic of small tiles", "studio photograph", "polaroid snapshot",
    "architectural visualization", "botanical illustration", "tilt shift miniature",
    "double exposure photograph", "pastel drawing", "felt and wool diorama",
    "ceramic figurine", "blueprint style technical drawing", "retro video game sprite",
    "collectible toy photograph", "editorial magazine photo", "fantasy book cover",
];

/// Art movements and traditions (no living artists).
#[rustfmt::skip]
pub const MOVEMENTS: &[&str] = &[
    "inspired by Art Nouveau", "in the spirit of Impressionism", "with Art Deco geometry",
    "influenced by Bauhaus design", "in the manner of Dutch Golden Age still life",
    "with a Surrealist twist", "in the tradition of Japanese ukiyo-e", "in Pop Art style",
    "in a Cubist arrangement", "with Romanticism drama", "in a Baroque composition",
    "with Art Brut energy", "in the style of Soviet constructivist posters",
    "in a Minimalist style", "with Pointillist dots", "in the manner of Fauvism",
    "with Vaporwave aesthetics", "in Rococo style", "with Futurist motion lines",
    "in the style of medieval illuminated manuscripts", "with Arts and Crafts patterns",
    "in a Brutalist setting", "in the Hudson River School tradition",
    "inspired by Byzantine icons", "with Memphis design shapes", "in a Precisionist style",
];

/// Light sources, times of day and weather light.
#[rustfmt::skip]
pub const LIGHTING: &[&str] = &[
    "golden hour backlight", "soft diffused overcast light", "dramatic rim lighting",
    "warm candlelight", "cool blue moonlight", "harsh midday sun", "volumetric light rays",
    "neon glow", "studio softbox lighting", "dappled sunlight", "bioluminescent glow",
    "low key lighting", "high key lighting", "light from a single window",
    "lit by lanterns", "flickering firelight", "blue hour twilight", "chiaroscuro lighting",
    "glowing embers", "bright morning light", "stormy light breaking through clouds",
    "backlit silhouette", "soft bounce light", "colored gel lighting", "sunbeams through fog",
    "reflected light from the water", "warm tungsten light", "cold fluorescent light",
    "aurora light in the sky", "spotlight from above", "rim light and deep shadows",
    "gentle ambient occlusion", "lens flare from the setting sun", "twinkling fairy lights",
];

/// Camera, lens, framing and photographic technique.
#[rustfmt::skip]
pub const CAMERA: &[&str] = &[
    "shot on a 35mm lens", "85mm portrait lens", "wide angle shot", "macro photography",
    "shallow depth of field", "aerial view", "drone shot from above", "low angle shot",
    "eye level close up", "extreme close up", "full body shot", "over the shoulder view",
    "fisheye lens", "telephoto compression", "long exposure", "motion blur", "bokeh background",
    "symmetrical composition", "rule of thirds framing", "centered composition",
    "medium format film", "shot on Kodak Portra", "black and white film grain",
    "anamorphic widescreen", "panoramic view", "bird's eye view", "worm's eye view",
    "handheld snapshot", "tilted dutch angle", "focus stacked detail", "f/1.8 aperture",
    "infrared photography", "cross processed film", "split diopter shot",
    "silhouette against the sky", "leading lines", "negative space composition",
];

/// Colour palettes.
#[rustfmt::skip]
pub const PALETTES: &[&str] = &[
    "muted teal and amber palette", "pastel colors", "vibrant saturated colors",
    "monochrome blue tones", "earthy browns and greens", "warm autumn palette",
    "cool winter palette", "black and gold", "crimson and cream", "sepia tones",
    "neon pink and cyan", "soft lavender and peach", "deep emerald and copper",
    "limited palette of three colors", "desaturated film colors", "bright primary colors",
    "rust orange and navy", "sage green and ivory", "candy colors", "charcoal and silver",
    "sunset orange and violet", "jewel tones", "olive and mustard", "ice white and steel blue",
    "turquoise and coral", "dusty rose and grey", "forest green and ochre", "inky blacks",
];

/// Mood and atmosphere.
#[rustfmt::skip]
pub const MOODS: &[&str] = &[
    "serene and contemplative", "whimsical", "melancholic atmosphere", "cozy and warm",
    "eerie and mysterious", "joyful", "epic and awe inspiring", "nostalgic", "dreamlike",
    "tense and dramatic", "peaceful", "playful mood", "lonely atmosphere", "hopeful",
    "quietly magical", "gritty", "romantic", "calm and still", "energetic", "otherworldly",
    "festive atmosphere", "somber", "enchanting", "haunting", "cheerful", "meditative",
    "adventurous spirit", "bittersweet", "mischievous", "tranquil",
];

/// Quality and detail tags; several are a single word so that short
/// remainders can be filled exactly.
#[rustfmt::skip]
pub const QUALITY: &[&str] = &[
    "highly detailed", "sharp focus", "intricate textures", "8k resolution", "ultra detailed",
    "award winning photograph", "masterpiece", "trending composition", "fine brushwork",
    "crisp edges", "rich textures", "subtle gradients", "clean lines", "physically based",
    "detailed", "vivid", "cinematic", "elegant", "dramatic", "soft", "crisp", "moody",
    "textured", "luminous", "bold", "delicate", "atmospheric", "realistic", "stylized",
    "minimal", "ornate", "glossy", "matte", "grainy", "colorful", "hazy", "dusty", "misty",
];
