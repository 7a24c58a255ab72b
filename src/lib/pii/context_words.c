/* The context detectors' word lists: given names and surnames common in
 * the bot's four languages and beyond, titles, name particles, street and
 * unit words, birth words and month names, stored case and accent folded
 * by what they tell the detectors (enum ctx_lex), and looked up through a
 * hash table built once on first use, where a word in several lists gets
 * all their flags. The lists are our own; docs/internals/pii-context.md
 * says how they were chosen. */
#include <pthread.h>
#include <string.h>

#include "pii/context.h"

static const struct {
    uint32_t lex;
    const char *words; /* folded words, each followed by one space */
} lists[] = {
    /* given names: en, fr, es, de, it, pt, nl, nordic, slavic, arabic, south and east asian,
       african */
    {LX_GIVEN,
     "aaron abigail adam adrian agnes agnieszka ahmed aisha akiko alain alan albert alberto "
     "alejandro alessandro alexa alexander alexandra alexei alexis ali alice alicia alison "
     "allen allison alvaro ama amanda amara amber amelie amina amit amy ana anastasia anders "
     "andre andrea andreas andres andrew angela angelo anil anita anja anjali ann anna annie "
     "anouk anthony antoine antonio aoife arjun arthur ashley astrid audrey aurelie austin ava "
     "baptiste barbara barry beatrice beatriz benjamin benoit bernard bernd beth betty beverly "
     "billy birgit bjorn bobby bonnie boris bradley bram brandon brenda brett brian bridget "
     "brigitte brittany brittney brooke bruce bryan caitlin caleb calvin cameron camila "
     "camille carl carlos carmen carol caroline carolyn carrie casey catherine cedric celine "
     "chad chantal charles charlotte chelsea chen cheryl chiara chidi chloe christian "
     "christina christine christophe christopher ciara claire clara clarence claudia clayton "
     "clement clifford cody colette colin colton concepcion connie connor corey cory courtney "
     "craig cristina curtis cynthia daan dale dallas dana daniel danielle darnell darrell "
     "darren david deborah debra declan deepa delphine denise dennis derek derrick destiny "
     "devin diamond diana diane didier diego dieter dirk dmitri dolores don donald donna doris "
     "dorothy douglas duane dustin dwayne dylan earl eddie edgar edith eduardo edward edwin "
     "ekaterina eleanor elena elijah elizabeth elke ella ellen elodie elsie emeka emilie "
     "emilio emily emma enrique eoin eric erica erik erin ernest esther ethan etienne eugene "
     "eva evan evelyn fabrice fatima felix femke fernando finn florence florian frances "
     "francesca francis francisco francois francoise frank frederic frederick frieda friedrich "
     "fritz gabriel gabriele gabriella gabrielle garrett gary gene genevieve george gerald "
     "geraldine gerhard gilles gina giovanni gisela giulia giuseppe glenn gloria goncalo "
     "gonzalo gordon grace graham gregory greta guadalupe guillaume gunter gustav hailey haley "
     "hannah hanne hans harold harper harry haruto hassan heather hector heidi heike heinrich "
     "helen helene helga helmut henrik henry herbert herve hiroshi holly hoon horst howard "
     "hugo hui hunter hussein ian ibrahim ignacio igor ines ingrid irene irina isaac isabel "
     "isabella isabelle ivan jack jacob jacqueline jacquelyn jacques jaime jakub jamal james "
     "jan jana jane janet janice jared jasmine jason javier jean jeanne jeffery jeffrey jenna "
     "jennifer jenny jens jeremy jeroen jerome jerry jesse jessica jessie jesus ji jill jimmy "
     "jin jo joan joanne joao joaquin joe joel johanna johannes john johnny jon jonas jonathan "
     "jordan jorg jorge jose josefa joseph josephine joshua josiane joyce juan judith judy "
     "jules julia julian julie julien juliette jun june jurgen justin kai kaitlyn karen kari "
     "karim karin karl katarzyna kate katelyn katherine kathleen kathryn katie katrin kayla "
     "keiko keisha keith kelly kelsey kenji kenneth kerstin kevin khalid kimberly kirk klaus "
     "kofi krista kristen kristin kristina krzysztof kurt kwame kyle kylie laetitia lance "
     "larry lars latoya laura lauren laurent lawrence layla lea leah leila lena leo leon "
     "leonard leroy leslie lewis li liam lieke lillian lily lina linda lindsay lindsey lisa "
     "lloyd logan lois lonnie lorenzo lorraine louis lourdes luca lucas lucia lucille lucy "
     "ludwig luis lukas lukasz luke mackenzie madison mads malgorzata malik manfred manon "
     "manuel marco marcus marek margaret margarita margaux maria mariah mariam marie marilyn "
     "mario marion marissa marjorie markus marta martha martin martina marvin mary mason mateo "
     "mathieu matteo matthew matthias maurice max maxime maximilian megan melanie melinda "
     "melissa melvin mercedes mette mia micah michael michel michelle miguel mildred milton "
     "min ming miranda mitchell mohammed molly monica monika monique montserrat moritz "
     "muhammad mustafa nancy naomi natalie natasha nathalie nathan nathaniel neal neil ngozi "
     "niamh nicholas nicolas nicole nigel niklas nikolai nils nina noah norma norman nour "
     "nuria odile olga oliver olivia olivier oluwaseun omar oscar otto owen pablo paige pamela "
     "paolo pascal patrice patricia patrick paul paula pauline pawel pedro peggy perry peter "
     "petra philip philippe phillip phyllis pierre pieter pilar piotr pooja preston priya "
     "quentin rachel rafael rahul raj ralph ramon randall randy raphael raquel rashid raul "
     "ravi raymond rebecca reginald reinhard remi renate renee rhonda ricardo richard rick "
     "ricky rita robert roberto robin rocio rodney roger rolf romain ronald ronnie rosa rose "
     "rosemary ross roy ruben ruby russell ruth ryan sabine sakura sally sam samantha samir "
     "samuel sandra sandrine sanjay sanne santiago sara sarah savannah scott sean sebastian "
     "sebastien sem seo sergei sergio severine shane shanice shannon sharon shawn sheila "
     "sherry shirley sidney sierra sigrid silke silvia simon siobhan sofia sonia sophia sophie "
     "soren spencer stacey stacy stanley stefan stefanie stefano stephane stephanie stephen "
     "steven stuart sunil susan susanne sven svetlana sylvia sylvie takeshi tamara tammy tanja "
     "tanya tara tariq tatiana ted teresa terrance terrence terri terry thea theo theodore "
     "theresa thierry thomas tiago tiffany tim timo timothy tina tobias todd tom tomasz tommy "
     "tony tonya torsten tracey tracy travis trevor troy tunde tyler tyrone ulrich ursula ute "
     "uwe valentina valerie vanessa vera vernon veronica veronique victor victoria vijay "
     "vincent virginia virginie vivian vladimir wade wallace walter wanda warren wayne wei "
     "wendy werner wesley whitney willard william willie wim wolfgang xavier ximena yan yasmin "
     "yolanda yuki yusuf yves yvonne zachary zainab zara zoe "},
    /* surnames common in the same countries */
    {LX_SURNAME,
     "abdullah adam adams adeyemi aguilar ahmed albrecht ali allen almeida alonso alvarado "
     "alvarez alves andersen anderson andersson andre andrews araujo arias armstrong arnaud "
     "arnold aubert bailey baker bakker barbier barbosa barnes barros bauer baumann beck "
     "becker bell benitez bennett berg berger bergmann bernard berry bertrand bianchi black "
     "blanc blanchard blanco bohm bonnet bos bourgeois boyd boyer bradley brandt braun bravo "
     "brooks brown brun brunet bruno burns busch butler byrne caballero cabrera calvo campbell "
     "campos cano cardoso carmona caron carpenter carrasco carroll carter carvalho castillo "
     "castro cavalcanti chavez chen chevalier cho choi christensen clark clement cohen coleman "
     "colin collins colombo conti contreras cook cooper cortes costa cox crawford crespo cruz "
     "cunningham daniels david davis delgado denis dias diaz dietrich diez dixon dlamini "
     "dominguez doyle dubois dufour dumas dumont duncan dunn dupont dupuis duran durand duval "
     "edwards elliott engel eriksson esposito esteban evans fabre faure ferguson fernandes "
     "fernandez ferrari ferrer fischer fisher flores fontaine foster fournier fox francois "
     "frank franke freeman freitas friedman friedrich fuchs fuentes gaillard gall gallardo "
     "gallego gallo gao garcia gardner garnier garrido garza gauthier gautier gerard gil "
     "gimenez giordano girard giraud goldberg gomes gomez gonzalez gordon graf graham grant "
     "gray greco green gross guerin guerrero guillaume guillot gunther guo gupta gutierrez "
     "guzman haas hahn hall hansen harris harrison hart hartmann hassan hawkins heinrich "
     "henderson henry hernandez herrera herrero herrmann hicks hidalgo hill hoffman hoffmann "
     "hofmann holmes horn horvat howard hu huang huber hubert hudson hughes hunt hunter "
     "hussain ibanez ibrahim iglesias ito ivanov jackson jacobs jager james jang jansen "
     "janssens jenkins jensen jimenez johansson johnson johnston joly jones jong jorgensen "
     "jung kaiser kaminski kang karlsson kato katz keller kelley kelly kennedy khan kim king "
     "klein knight kobayashi koch kohler konig korhonen kovac kowalczyk kowalski kozlov kramer "
     "kraus krause kruger kuhl kuhn kumar kuznetsov lacroix lambert lane lang lange larsen "
     "larsson laurent lawrence lebedev leclerc leclercq lee lefebvre lefevre legrand lehmann "
     "lemaire lemoine leon leroux leroy levi lewandowski lewis lim lima lin liu lombardi long "
     "lopez lorenz lorenzo lozano lucas ludwig luo maes maier makinen mancini marchand marin "
     "marino marquez marshall martin martinez martins mason masson mathieu matthews mayer "
     "mccarthy mcdonald medina meier meijer mendes mendez mendoza mensah mercier meunier meyer "
     "michel miller mills mitchell mohamed molina moller monteiro montero moore mora morales "
     "moreau morel moreno moretti morgan morin morozov morris moulin moura moya mulder muller "
     "munoz murphy myers nakamura nascimento navarro nelson neumann nguyen nichols nicolas "
     "nielsen nieminen nieto nilsson nkosi noel novak novikov nowak nunez obrien oconnor "
     "okafor oliveira olivier olsen olson ortega ortiz otto owens palmer park parker parra "
     "pascual pastor patel payne pedersen peeters pena pereira perez perkins perrin perry "
     "peters peterson petit petrov pfeiffer philippe phillips picard pierce pinto pohl popov "
     "porter powell price prieto rahman ramirez ramos rasmussen ray reed renard renaud reyes "
     "ribeiro ricci rice richard richards richardson richter riley rivera riviere rizzo robert "
     "roberts robertson robin robinson rocha roche rodrigues rodriguez roger rogers rojas "
     "rolland roman romano romero rose ross rossi roth rousseau roussel roux roy royer rubio "
     "ruiz russell russo ryan saez salazar sanchez sanders sandoval santana santiago santos "
     "sanz sato sauer schafer schmid schmidt schmitt schmitz schneider scholz schreiber "
     "schroder schubert schulte schulz schulze schumacher schuster schwarz scott seidel "
     "serrano shah sharma shaw silva simmons simon simpson singh smirnov smit smith snyder "
     "sokolov soler sommer sorensen soto souza spencer stein stephens stewart stone suarez "
     "sullivan sun suzuki szymanski takahashi tanaka taylor thomas thompson torres tucker "
     "turner vargas vasquez vazquez vega velasco vicente vidal vincent virtanen visser vogel "
     "vogt voigt volkov vos vries wagner walker walsh walter wang ward warren washington "
     "watanabe watson weaver webb weber weiss wells werner white williams willis wilson "
     "winkler winter wisniewski wojcik wolf wolff wood woods wright wu xu yamamoto yang yoon "
     "young zhang zhao zhou zhu ziegler zielinski zimmermann "},
    /* names that are also ordinary words, months or places */
    {LX_AMBIG,
     "ali ama amber angel april arnaud art aubert august austin autumn bailey barros bauer "
     "baumann beck bell bergmann berry bill black blanc blanco brandt bravo brittany brooks "
     "brun bruno busch cabrera campos cardoso carol carpenter castro chad charlotte chase "
     "christian claire clara colombo conti cook costa crespo cruz crystal daisy dallas dawn "
     "dean destiny diamond dias dolores don drew dunn earl engel fabre faith ferrari fischer "
     "fisher florence flores fox frank fuchs gallo gardner gene georgia gil gloria grace graf "
     "grant greco green gross guadalupe guerrero guy hahn hart hartmann heather hill hoffmann "
     "holly hope horn hunt iris ivy jack jade jager jan jasmine jean jesus jin joly jordan joy "
     "jun june jung kai kaiser king klein koch konig kruger lane lang lea leclerc lena li lily "
     "lima lin long lourdes madison marino mark marshall mason max may mercedes mia mills min "
     "monteiro montserrat mora moreno moulin moura neumann noel nour olive oscar paige paris "
     "park parra pastor pat payne pearl petit pierce pierre pilar pinto porter powell price "
     "prieto ray reed reyes ribeiro rice rich richter rob robin rocha roche rocio rojas roman "
     "rosa rose roux rubio ruby russo sally sanders santiago santos sauer savannah schafer "
     "schneider schreiber schuster schwarz sean sem shaw sierra sofia soler sommer stein stone "
     "sue summer sun sunny sydney tony vega victoria vidal violet virginia vogel ward "
     "washington weaver weber weiss wells white will winter wolf wood woods young zimmermann "},
    /* capitalized words that are never a name: days, months, greetings, plan and product words,
       pronouns, languages */
    {LX_NOTNAME,
     "a abril account adieu advanced ag agency agosto aleman allemand also an and android "
     "angestellter anglais aout apple arzt associates avenue avril back bank basic berlin "
     "bienvenido bienvenue bill bitte bonjour bronze business but bye c'est calle calling card "
     "center centre christmas ciao city client cliente club co company corp corporation "
     "country customer danke data dear december decembre desole deutsch dezember diciembre "
     "dienstag dimanche domingo done donnerstag du easter el ella elle elles enero englisch "
     "english entschuldigung er es esim espagnol espanol essential extra family febrero "
     "februar february fevrier fiber fibre fine foundation francais frances franzosisch "
     "freitag french friday german glad gmbh going gold good goodbye google gracias great "
     "group hallo happy he he's hello here here's hey hi him his hola hospital hotel how i i'd "
     "i'll i'm i've ich if ihr il ils inc ingles institute interested internet invoice iphone "
     "it it's j'ai ja januar january janvier je jeudi jueves juillet juin juli julio july juni "
     "junio just kunde kundin lehrer let's light lite llc lo london looking ltd lundi lunes "
     "madrid mai march mardi mars martes marz marzo mastercard mayo me mega merci mercredi "
     "miercoles mitglied mittwoch mobile monday montag my navidad nein neukunde new no noel "
     "non nosotros not nous november novembre noviembre now october octobre octubre office ok "
     "okay oktober or ostern oui our paques pardon paris partners pascua paypal phone platinum "
     "please plus postpaid premium prepaid pro ready really rentner rentnerin restaurant road "
     "roaming rome rue sa sabado salut samedi samstag samsung sarl saturday school september "
     "septembre septiembre service she she's si sie siento silver sim sl so sonntag sorry "
     "spanisch spanish standard starter state still strasse street student studentin sunday "
     "super support sure team thank thanks that that's the their them then there there's these "
     "they they're this those thursday today tomorrow town trying tu tuesday ultra university "
     "unlimited us usted ustedes vendredi very viernes visa vous we we're wednesday "
     "weihnachten welcome what what's when where which who why wifi willkommen wir writing yes "
     "yesterday yo york you you're your "},
    /* function words that end a run of name or place words */
    {LX_STOP,
     "a am an and are as at be been but by des el en es est et for from her his if im in is "
     "ist it las les los mit my no not o oder of on or ou our so that the their this to un und "
     "une von was were with y yes your "},
    /* titles before a name */
    {LX_TITLE,
     "dame dna don dona dott dr frau fraulein herr m madam madame mademoiselle miss mister "
     "mlle mme monsieur mr mrs ms prof professor senor senora senorita sig sir sr sra srta "},
    /* particles inside a name */
    {LX_PARTICLE,
     "al bin d' da das de del della den der des di do dos du el ibn la le mac ten ter van "
     "van't von y zu "},
    /* street types after the street name (en, de, nl) */
    {LX_ST_AFTER,
     "allee alley av ave avenue blvd boulevard broadway chaussee cir circle close court cres "
     "crescent ct damm dr drive gardens gasse gata gatan gate gracht grove highway hwy korut "
     "laan lane ln loop markt mews parkway path pfad pike pkwy pl place plads platz plaza "
     "plein rakpart rd ring road row sq square st steig str straat strasse street ter terrace "
     "trail trl ufer ut utca utja vei vej walk way weg wharf "},
    /* street types before the street name (fr, es, it, pt, pl, ro) */
    {LX_ST_BEFORE,
     "alameda allee av avd avda avenida avenue bd bld boulevard bvd c calea calle callejon "
     "camino carretera ch chemin cl corso cours ctra esplanade estrada faubourg fbg glorieta "
     "imp impasse largo lieu-dit pasaje paseo passage piazza pl place plaza praca pza quai "
     "residence rond-point ronda route rte rua rue sentier square strada trav travesia "
     "travessa ul ulica via viale voie "},
    /* unit and floor words after a street line */
    {LX_UNIT,
     "apartment app appartement appt apt bajo bat batiment bis bldg building dcha derecha "
     "drcha eg esc escalier etage fl flat floor hinterhaus izda izq izquierda og piso planta "
     "portal porte pta puerta rm room ste stock suite ter unit vorderhaus whg wohnung zimmer "},
    /* birth context words */
    {LX_DOB, "anniversaire birth birthdate birthday born cumpleanos dob geb geboren geburt "
             "geburtsdatum geburtstag nacida nacido nacimiento naissance nee "},
    /* month names and abbreviations */
    {LX_MONTH,
     "abril agosto aout apr april aug august avr avril dec december decembre dezember "
     "diciembre enero feb febrero februar february fevr fevrier jaenner jan januar january "
     "janv janvier juil juillet juin jul juli julio july jun june juni junio maerz mai mar "
     "march mars marz marzo may mayo nov november novembre noviembre oct october octobre "
     "octubre oktober sep sept september septembre septiembre setiembre "},
    /* compass points after a US street */
    {LX_DIR, "e east n ne north nw s se south sw w west "},
    /* words announcing an address */
    {LX_ADDR_CUE,
     "addr address adresse anschrift direccion domicilio postanschrift wohnadresse wohnhaft "},
    /* suffixes after a name */
    {LX_NAME_SUFFIX, "dds dvm esq ii iii iv jr md phd "},
    /* post office box words */
    {LX_POBOX, "apartado apdo box postfach "},
    /* US state codes (upper case in text) */
    {LX_US_STATE,
     "ak al ar az ca co ct dc de fl ga hi ia id il in ks ky la ma md me mi mn mo ms mt nc nd "
     "ne nh nj nm nv ny oh ok or pa ri sc sd tn tx ut va vt wa wi wv wy "},
};

static const struct {
    const char *w;
    int m;
} months[] = {
    {"january", 1},    {"jan", 1},        {"janvier", 1},   {"janv", 1},      {"enero", 1},
    {"januar", 1},     {"jaenner", 1},    {"february", 2},  {"feb", 2},       {"fevrier", 2},
    {"fevr", 2},       {"febrero", 2},    {"februar", 2},   {"march", 3},     {"mar", 3},
    {"mars", 3},       {"marzo", 3},      {"marz", 3},      {"maerz", 3},     {"april", 4},
    {"apr", 4},        {"avril", 4},      {"avr", 4},       {"abril", 4},     {"may", 5},
    {"mai", 5},        {"mayo", 5},       {"june", 6},      {"jun", 6},       {"juin", 6},
    {"junio", 6},      {"juni", 6},       {"july", 7},      {"jul", 7},       {"juillet", 7},
    {"juil", 7},       {"julio", 7},      {"juli", 7},      {"august", 8},    {"aug", 8},
    {"aout", 8},       {"agosto", 8},     {"september", 9}, {"sep", 9},       {"sept", 9},
    {"septembre", 9},  {"septiembre", 9}, {"setiembre", 9}, {"october", 10},  {"oct", 10},
    {"octobre", 10},   {"octubre", 10},   {"oktober", 10},  {"november", 11}, {"nov", 11},
    {"novembre", 11},  {"noviembre", 11}, {"december", 12}, {"dec", 12},      {"decembre", 12},
    {"diciembre", 12}, {"dezember", 12},
};

/* Open addressing; SLOTS is a power of two over twice the distinct words. */
#define SLOTS     8192u
#define MAX_WORDS 4000u

static struct entry {
    const char *w;
    uint32_t n, lex;
} entries[MAX_WORDS];
static uint16_t slots[SLOTS]; /* index + 1 into entries[]; 0: empty */
static pthread_once_t built = PTHREAD_ONCE_INIT;

static uint32_t hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static uint16_t *slot_of(const char *w, size_t n)
{
    uint32_t h = hash(w, n) & (SLOTS - 1);
    while (slots[h]) {
        const struct entry *e = &entries[slots[h] - 1];
        if (e->n == n && memcmp(e->w, w, n) == 0)
            break;
        h = (h + 1) & (SLOTS - 1);
    }
    return &slots[h];
}

static void build(void)
{
    size_t used = 0;
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        const char *p = lists[l].words;
        while (*p) {
            const char *sp = strchr(p, ' ');
            size_t n = sp ? (size_t)(sp - p) : strlen(p);
            uint16_t *slot = slot_of(p, n);
            if (*slot) {
                entries[*slot - 1].lex |= lists[l].lex;
            } else if (used < MAX_WORDS) {
                entries[used] = (struct entry){p, (uint32_t)n, lists[l].lex};
                *slot = (uint16_t)++used;
            }
            p += n + (sp != NULL);
        }
    }
}

uint32_t pii_ctx_lookup(const char *fold, size_t n)
{
    uint16_t *slot;
    (void)pthread_once(&built, build);
    slot = slot_of(fold, n);
    return *slot ? entries[*slot - 1].lex : 0;
}

int pii_ctx_month(const char *fold)
{
    for (size_t i = 0; i < sizeof(months) / sizeof(months[0]); i++)
        if (strcmp(months[i].w, fold) == 0)
            return months[i].m;
    return 0;
}
