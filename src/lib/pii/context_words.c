/* The context detectors' word lists: given names and surnames common in
 * the bot's four languages and beyond, titles, name particles, street and
 * unit words, birth words and month names, stored case and accent folded
 * by what they tell the detectors (enum ctx_lex), and looked up through a
 * hash table built once on first use, where a word in several lists gets
 * all their flags. The lists are our own; docs/internals/pii-context.md
 * says how they were chosen. */
#include <pthread.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pii/context.h"

static const struct {
    uint32_t lex;
    const char *words; /* folded words, each followed by one space */
} lists[] = {
    /* given names: en, fr, es, de, it, pt, nl, nordic, slavic, arabic, south and east asian,
       african */
    {LX_GIVEN,
     "aarav aaron abdullahi abena abigail adaeze adam aditya adnan adrian adriana agata agnes "
     "agnieszka ahmad ahmed ahmet aili aino aisha aishwarya akiko akosua aksel alain alan "
     "albert alberto alejandro aleksandra alessandro alessia alexa alexander alexandra "
     "alexandru alexei alexis ali alice alicia alina alison aliyu alla allen allison alva "
     "alvaro ama amal amanda amara amber amelie amina amir amit amy ana ananya anastasia "
     "anders andre andrea andreas andreea andrei andres andrew andris andriy andrzej andy "
     "angela angelica angeliki angelo anh anil anita anja anjali ann anna annie anouk anthony "
     "antoine anton antonio antti aoi aoife ari arina arjun arnav arne artem arthur ashlee "
     "ashley asif astrid attila audrey aurelie aurora austin ava axel ayesha ayse balazs "
     "baptiste barbara baris barry bartosz beata beatrice beatriz benjamin benoit bernard "
     "bernd beth betty beverly bilal billy birgit birgitta bjorn blake bobby bogdan bohdan "
     "bonnie boris bradley bram brandi brandon brandy brenda brett brian bridget brigitte "
     "brittany brittney brooke bruce bruno bryan burak caitlin caleb calvin cameron camila "
     "camille candice carl carla carlos carmen carol carolina caroline carolyn carrie casey "
     "catalina catherine cedric celine cem chad chantal charles charlotte chelsea chen cheryl "
     "chiara chidi chinedu chloe christian christina christine christophe christopher christos "
     "chukwuma ciara cindy claire clara clarence claudia claudio clayton clement clifford cody "
     "colette colin colton concepcion connie connor corey cory courtney craig cristian "
     "cristina csaba curtis cynthia daan daiki dale dallas dana daniel daniela daniele "
     "danielle darius dariush dariusz darnell darrell darren darya david davide dawid deborah "
     "debra declan deepa dejan delphine denis denise deniz dennis derek derrick despina "
     "destiny devin diamond diana diane didier diego dieter dimitra dimitris dina dirk divya "
     "dmitri dolores don donald donna doris dorota dorothy douglas doyun dragan dragana duane "
     "duc dustin dwayne dylan earl ebba ebru eddie edgar edith eduardo edward edwin eero egle "
     "egor eileen einar ekaterina eleanor elena eleni elias elif elijah elin elisa elizabeth "
     "elke ella ellen elodie elsa elsie emanuele emeka emil emilie emilio emily emine emma "
     "emre enrico enrique eoin eric erica erik erin ernest erzsebet esra esteban esther ethan "
     "etienne eugene eunji eva evan evelyn ewa fabio fabrice faisal farhad fatima fatma "
     "federica felipe felix femke fernanda fernando filip finn florence florian florin frances "
     "francesca francis francisco franco francois francoise frank freddie frederic frederick "
     "fredrik freja frieda friedrich fritz gabor gabriel gabriela gabriele gabriella gabrielle "
     "galina ganesh garrett gary geir gene genevieve george georgia georgios gerald geraldine "
     "gerhard gilles gina ginevra giorgio giorgos giovanna giovanni gisela giulia giuseppe "
     "gizem glenn gloria goncalo gonzalo goran gordon grace graciela graham gregory greta "
     "grzegorz guadalupe gudrun guillaume guillermo gunnar gunter gustav gustavo hailey hakan "
     "haley hamza hana hanna hannah hanne hans harold harper harry haruka haruto hassan hatice "
     "heather hector heidi heike heikki heinrich helen helene helga helgi helmi helmut henrik "
     "henry herbert herve hieu hina hiroshi hisham hoa holly hoon horst hossein howard hubert "
     "huda hugo hui hung hunter huong hussein hyejin hyun ian ibrahim ida ifeoma ignacio igor "
     "ildiko ilya ilze imran ines inese ingrid ioana ioanna ionut irene irina isaac isabel "
     "isabella isabelle ishaan istvan ivan ivana jacek jack jacob jacqueline jacquelyn jacques "
     "jae jaime jakub jamal james jan jana jane janet janice janis janne janos janusz jared "
     "jari jasmine jason javier jean jeanne jeffery jeffrey jelena jenna jennifer jenny jens "
     "jeremy jeroen jerome jerry jesse jessica jessie jesus ji jiho jill jimmy jin jiri jisoo "
     "jiwoo jo joan joanna joanne joao joaquin joe joel johan johanna johannes john johnny jon "
     "jonas jonathan jordan jorg jorge jorgen jose josef josefa joseph josephine joshua "
     "josiane josip joyce juan judit judith judy juha jukka jules julia julian julie julien "
     "juliette julio jun june jurgen juris justin kadri kai kaisa kaitlyn kaito kamil karan "
     "karen kari karim karin karl katalin katarzyna kate katelyn katerina katherine kathleen "
     "kathryn kati katie katrin kavita kayla kaylee keiko keisha keith kellie kelly kelsey "
     "kenji kenneth kerem kerstin kevin khalid khanh kimberly kirill kirk kjell klara klaus "
     "knut kofi kostas krishna krista kristen kristin kristina kristine kristjan kristy "
     "krisztina krystyna krzysztof kurt kwabena kwame kyle kylie ladislav laetitia laima "
     "lakshmi lan lance larry lars laszlo latoya laura lauren laurent lawrence layla lea leah "
     "leif leila lena leo leon leonard leonardo lerato leroy leslie leticia lewis li liam "
     "lieke liga liliana lillian lily lina linda lindsay lindsey linh linnea lisa liv lloyd "
     "logan lois lonnie lorena lorenzo lorraine louis lourdes luca lucas lucia lucie lucille "
     "lucy ludwig luis luka lukas lukasz luke lyudmila maciej mackenzie madison mads magdalena "
     "magnus mahesh mahmoud mai maja malgorzata malik mandy manfred manon manuel marcel "
     "marcelo marco marcus marek margaret margarita margaux margret maria mariah mariam "
     "mariana marie marija marilyn mario marion marisol marissa marit mariusz marjorie markku "
     "marko markus mart marta martha martin martina martins marvin mary maryam mason massimo "
     "mateo mateusz mathieu matilda matteo matthew matthias matti maurice mauricio mauro max "
     "maxim maxime maximilian megan mehdi mehmet mei melanie melinda melissa melvin mercedes "
     "merve mette mia micah michael michel michelle miguel mihaela mihai mika mikael mikkel "
     "mikko milan mildred milton min mindaugas mindy ming minh minji minjun minna mio miranda "
     "mirjana miroslav misaki misty mitchell miyu mohammed molly monica monika monique "
     "montserrat moritz muhammad murat musa mustafa nabil nadia nam nanami nancy naomi natalia "
     "natalie natasha nathalie nathan nathaniel neal neda neha neil ngoc ngozi niamh nicholas "
     "nicola nicolas nicole nigel niklas nikola nikolai nikos nils nina noah nomvula noor nora "
     "norma norman nour nuria oana odile oksana olafur olav ole oleksandr olga oliver olivia "
     "olivier olumide oluwadamilare oluwaseun omar ondrej onur orsolya oscar oskar otto owen "
     "ozan pablo paige paivi pamela panagiotis paola paolo parisa pascal patrice patricia "
     "patrick paul paula paulette pauline pavel pawel pedro peggy pekka per perry petar peter "
     "petr petra petri philip philippe phillip phuong phyllis pierre pieter pietro pilar piotr "
     "polina pooja preston priya quang quentin rabia rachel rafael rafal ragnheidur rahul raj "
     "ralph raluca ramesh rami ramon randall randi randy rania raphael raquel rashid raul ravi "
     "raymond razvan rebecca reem reginald reinhard reka remi renata renate renee reza rhonda "
     "ricardo riccardo richard rick ricky riikka rin rita ritu robert roberto robin rocio "
     "rodney rodrigo roger rohan rolf romain roman ronald ronnie rosa rose rosemary ross roy "
     "ruben ruby rune ruslan russell ruta ruth ryan ryo sabine saga sai sakura sally salma sam "
     "samantha sami samir samuel sana sandra sandrine sandy sanjay sanna sanne santiago sara "
     "sarah savannah scott sean sebastian sebastien selin selma sem seo seojun seoyeon sergei "
     "sergio serkan severine shane shanice shannon sharon shawn sheila sherry shirin shirley "
     "shota shreya sidney sierra sigrid sigridur sigurdur silke silvana silvia simon simona "
     "simone siobhan sipho siri snezana sofia solveig sonia sophia sophie soren sota soyeon "
     "spencer stacey stacy stanislaw stanley stefan stefanie stefano stephane stephanie "
     "stephen steven stig stjepan stuart sung sunil sunita suresh susan susanne sven svetlana "
     "sylvia sylvie szymon takeshi takumi tamara tamas tammy tanja tanya tara taras tarek "
     "tariq tatiana tatyana taylor ted teresa tereza terrance terrence terri terry thabo thanh "
     "thao thea themba theo theodore theresa thierry thomas thor thora thu tiago tiffany tiina "
     "tiit tim timo timothy timur tina tobias todd tolga tom tomas tomasz tomislav tommaso "
     "tommy tony tonya toomas tor torsten tracey tracy trang travis trevor triin trinh trond "
     "troy tuan tunde tuomas tuva tyler tyrone ulrich ursula usman ute uwe vaclav valentina "
     "valeria valerie vanessa vasiliki vasilis vera vernon veronica veronique vesna victor "
     "victoria viggo vihaan vijay vikram viktor ville vincent virginia virginie vittoria "
     "vivian vladimir vojtech volkan vy wade walid wallace walter wanda warren wayne wei wendy "
     "werner wesley whitney willard william willie wilma wim wojciech wolfgang xavier ximena "
     "yakubu yan yannis yasmin yaw yiannis yolanda young youssef yui yuki yuliya yuma yuna "
     "yusuf yuto yves yvonne zachary zahra zainab zanele zara zbigniew zdenek zeynep ziad zoe "
     "zofia zoltan zoran zsuzsanna zubair zuzana "},
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
     "henderson henry hernandez herrera herrero herrmann hicks hidalgo hill hoang hoffman "
     "hoffmann hofmann holmes horn horvat howard hu huang huber hubert hudson hughes hunt "
     "hunter hussain ibanez ibrahim iglesias ito ivanov jackson jacobs jager james jang jansen "
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
     "peters peterson petit petrov pfeiffer pham phan philippe phillips picard pierce pinto "
     "pohl popov porter powell price prieto rahman ramirez ramos rasmussen ray reed renard "
     "renaud reyes ribeiro ricci rice richard richards richardson richter riley rivera riviere "
     "rizzo robert roberts robertson robin robinson rocha roche rodrigues rodriguez roger "
     "rogers rojas rolland roman romano romero rose ross rossi roth rousseau roussel roux roy "
     "royer rubio ruiz russell russo ryan saez salazar sanchez sanders sandoval santana "
     "santiago santos sanz sato sauer schafer schmid schmidt schmitt schmitz schneider scholz "
     "schreiber schroder schubert schulte schulz schulze schumacher schuster schwarz scott "
     "seidel serrano shah sharma shaw silva simmons simon simpson singh smirnov smit smith "
     "snyder sokolov soler sommer sorensen soto souza spencer stein stephens stewart stone "
     "suarez sullivan sun suzuki szymanski takahashi tanaka taylor thomas thompson torres tran "
     "tucker turner vargas vasquez vazquez vega velasco vicente vidal vincent virtanen visser "
     "vogel vogt voigt volkov vos vries wagner walker walsh walter wang ward warren washington "
     "watanabe watson weaver webb weber weiss wells werner white williams willis wilson "
     "winkler winter wisniewski wojcik wolf wolff wood woods wright wu xu yamamoto yang yoon "
     "young zhang zhao zhou zhu ziegler zielinski zimmermann "},
    /* names that are also ordinary words, months or places */
    {LX_AMBIG,
     "ali alla ama amal amber anders angel angeles april ari arnaud art aubert august austin "
     "autumn bailey barros bauer baumann beck bell bergmann berry bill black blanc blanca "
     "blanco brandt bravo brittany brooks brun busch cabrera campos cardoso carol carpenter "
     "castro chad charlotte chase chevalier christian claire clara colombo conti cook costa "
     "crespo cruz crystal daisy dallas dawn dean destiny diamond dias dolores don drew dunn "
     "earl ella engel ernst fabre faith ferrari fischer fisher florence flores fontaine fox "
     "frank fuchs gallo gardner gene georgia gil gloria grace graf grant greco green gross "
     "guadalupe guerrero guy hahn hall hana hanna hart hartmann heather hill hoa hoffmann "
     "holly hope horn hunt ida iris ivy jack jade jae jager jan jasmine jean jesus jin joly "
     "jordan joy jun june jung kai kaiser keller king klein koch konig kruger lan lane lang "
     "lea leclerc lena leon li lily lima lin liv long lourdes ly madison mai marchand marino "
     "mark marshall mason max may mei mercedes mia mills min mio misty monteiro montserrat "
     "mora moreno moulin moura nam neumann nina noel nora nour olive oscar paige paris park "
     "parra pastor pat payne pearl per petit pierce pierre pilar pinto porter powell price "
     "prieto ray reed reem reyes ribeiro rice rich richter rin rob robin rocha roche rocio "
     "rojas romain roman rosa rose roux rubio ruby russo saga sally sanders sandy santiago "
     "santos sara sauer savannah schafer schneider schreiber schuster schwarz sean sem shaw "
     "sierra sofia soler sommer stein stone sue summer sun sung sunny sydney taylor thor thu "
     "tony tor vega vera victoria vidal violet virginia vogel vy ward washington weaver weber "
     "weiss wells white will winter wolf wood woods young zimmermann "},
    /* capitalized words that are never a name: days, months, greetings, plan and product words,
       pronouns, languages */
    {LX_NOTNAME,
     "a abril account adieu advanced ag agency agosto album aleman all allemand also an and "
     "android angestellter anglais aout apple arzt associates avril back band bank bar basic "
     "bienvenido bienvenue bill bitte bonjour book bronze buch business but bye c'est cafe "
     "calling card center centre christmas ciao city client cliente club co company concert "
     "corp corporation country customer danke data dear december decembre desole deutsch "
     "dezember diciembre dienstag dimanche diner domingo done donnerstag du easter el elle "
     "elles enero englisch english entschuldigung er es esim espagnol espanol essential "
     "everybody everyone extra family fan febrero februar february fevrier fiber fibre film "
     "fine folks foundation francais frances franzosisch freitag french friday german glad "
     "gmbh going gold good goodbye google gracias great group guys hallo happy haus he he's "
     "hello here here's hey hi him his hola hospital hotel house how i i'd i'll i'm i've ich "
     "if ihr il ils inc ingles institute interested internet invoice iphone it it's j'ai ja "
     "januar january janvier je jeudi jueves juillet juin juli julio july juni junio just "
     "konzert kunde kundin lehrer let's lied light lite llc lo looking ltd lundi lunes mai "
     "march mardi mars martes marz marzo mastercard mayo me mega merci mercredi miercoles "
     "mitglied mittwoch mobile monday montag movie music musik my navidad nein neukunde new no "
     "noel non nosotros not nous november novembre noviembre now october octobre octubre "
     "office ok okay oktober or ostern oui our paques pardon partners pascua paypal phone "
     "platinum playlist please plus postpaid premium prepaid pro pub ready really rentner "
     "rentnerin restaurant roaming sa sabado saga salut samedi samstag samsung sarl saturday "
     "school september septembre septiembre service she she's show si sie siento silver sim sl "
     "so song sonntag sorry spanisch spanish standard starter state still student studentin "
     "sunday super support sure team thank thanks that that's the their them then there "
     "there's these they they're this those thursday today tomorrow tour town trying tu "
     "tuesday ultra university unlimited us usted ustedes vendredi very viernes visa vous we "
     "we're wednesday weihnachten welcome what what's when where which who why wifi willkommen "
     "wir world writing yes yesterday yo you you're your "},
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
     "van't von zu "},
    /* street types after the street name (en, de, nl) */
    {LX_ST_AFTER,
     "allee alley av ave avenue blvd boulevard broadway chaussee cir circle close court cres "
     "crescent ct damm dr drive gardens gasse gata gatan gate gracht grove highway hwy korut "
     "laan lane ln loop markt mews parkway path pfad pike pkwy pl place plads platz plaza "
     "plein rakpart rd ring road row sq square st steig str straat straeti strasse street ter "
     "terrace trail trl ufer ut utca utja vegen vei veien vej walk way weg wharf "},
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
     "addr address adresse anschrift direccion domicilio habite habito live lives living "
     "located postanschrift reside resides vivo wohnadresse wohne wohnhaft wohnt "},
    /* suffixes after a name */
    {LX_NAME_SUFFIX, "dds dvm esq ii iii iv jr md phd "},
    /* post office box words */
    {LX_POBOX, "apartado apdo box postfach "},
    /* US state codes (upper case in text) */
    {LX_US_STATE,
     "ak al ar az ca co ct dc de fl ga hi ia id il in ks ky la ma md me mi mn mo ms mt nc nd "
     "ne nh nj nm nv ny oh ok or pa ri sc sd tn tx ut va vt wa wi wv wy "},
    /* last words of the cues before a name */
    {LX_CUE, "am appelez-moi bin c'est es est habla heisse her him i'm is ist it's llamame llaman "
             "llamo m'appelle me name's named nennen soy spricht suis "},
    /* labels before a colon and a name */
    {LX_LABEL, "apellido apellidos client cliente contact customer de firmado from kontakt kunde "
               "nachname name nom nombre prenom signe signed to von vorname "},
    /* greetings and speech verbs before a name */
    {LX_GREET,
     "antwortete asked bonjour bye cheers cher chere cordialement danke dear demande dijo dit "
     "estimada estimado fragte gracias gruss grusse hallo hello hey hi hola liebe lieber "
     "meinte merci pregunto querida querido regards replied repondit respondio sagte said "
     "saludos salut says sincerely thank thanks told "},
    /* conjunctions joining names */
    {LX_COORD, "and et o oder or ou und y "},
    /* words that make the name after them a place */
    {LX_PLACE_PRE,
     "cape fort lake mount mt port porto puerto saint sainte san sankt santa st vila villa "},
    /* company suffixes: the names before them are a firm */
    {LX_ORG, "ag co company corp corporation gmbh group inc kg llc llp ltd ohg plc sa sarl sl "},
    /* first words of PO box, military and street-corner addresses */
    {LX_ADDR_START, "apo bp corner dpo ecke esquina fpo l'angle p po "},
    /* speech verbs before a speaker (also in LX_GREET) */
    {LX_SPEECH, "antwortete asked demande dijo dit fragte meinte pregunto replied repondit "
                "respondio sagte said says told "},
    /* greetings after which a name follows, listed or not */
    {LX_WARM, "cher chere dear estimada estimado liebe lieber querida querido "},
    /* verbs after a speaker */
    {LX_SPOKE, "asked replied said says writes wrote "},
    /* "Judy here" */
    {LX_HERE, "aqui here hier ici "},
    /* personal things after an owner's "'s" */
    {LX_THING, "account address bill birthday boss brother car card daughter e-mail email "
               "father friend house husband line mother name number office partner phone "
               "sister son wife "},
    /* labels that announce a name, not a contact or a sender */
    {LX_NAME_LABEL, "apellido apellidos nachname name nom nombre prenom vorname "},
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

/* Keys are the folded words zero-padded to 32 bytes, as tokens hold them,
 * hashed and compared 8 bytes at a time: no per-byte hash, no memcmp.
 *
 * Half the words a text holds are in no list, and the token arrays of a
 * scan push a big table out of the cache, so a lookup first reads a small
 * (8 KiB) array of one-byte tags, a bucket of 16 of them at once: a word
 * in no list seldom goes further. A matching tag leads to the slot
 * beside it, which holds a word's first 8 bytes, length and flags, so
 * that a word of at most 8 bytes (most of them) is settled by one more
 * read. A word goes in the first bucket from its hash with a free tag;
 * a bucket with a free tag ends the search. BUCKETS * BUCKET is over
 * twice the distinct words, so that a full bucket is rare. */
#define BUCKET      16u
#define BUCKET_BITS 9u
#define BUCKETS     (1u << BUCKET_BITS)
#define SLOTS       (BUCKETS * BUCKET)
#define MAX_WORDS   4000u
#define KEY_WORDS   ((CTX_FOLD_MAX + 1) / 8)

static struct entry {
    uint64_t key[KEY_WORDS];
} entries[MAX_WORDS];
static _Alignas(16) uint8_t tags[SLOTS]; /* 0: free */
static struct slot {
    uint64_t key0; /* the key's first 8 bytes */
    uint32_t lex;
    uint16_t idx; /* index + 1 into entries[] */
    uint16_t n;
} slots[SLOTS + 1];
static pthread_once_t built = PTHREAD_ONCE_INIT;

static uint64_t key_at(const char *key, size_t k)
{
    uint64_t w;
    memcpy(&w, key + 8 * k, 8);
    return w;
}

/* The bucket is the top bits, the tag the 8 below them (never 0). */
static uint64_t hash(const char *key, size_t n)
{
    uint64_t h = (key_at(key, 0) ^ n) * 0x9E3779B97F4A7C15u;
    for (size_t k = 1; k * 8 < n; k++)
        h = (h ^ (h >> 29) ^ key_at(key, k)) * 0xBF58476D1CE4E5B9u;
    return h;
}

static uint32_t bucket_of(uint64_t h)
{
    return (uint32_t)(h >> (64 - BUCKET_BITS));
}

static uint8_t tag_of(uint64_t h)
{
    uint8_t t = (uint8_t)(h >> (56 - BUCKET_BITS));
    return (uint8_t)(t + (t == 0));
}

static bool same_word(const struct slot *sl, const char *key, uint64_t key0, size_t n)
{
    const struct entry *e;
    if (sl->n != n || sl->key0 != key0)
        return false;
    e = &entries[sl->idx - 1];
    for (size_t k = 1; k * 8 < n; k++)
        if (e->key[k] != key_at(key, k))
            return false;
    return true;
}

/* Mask with bit i set for each tag i of bucket `b` equal to `tag`. */
static unsigned tag_mask(uint32_t b, uint8_t tag)
{
#if defined(__SSE2__)
    __m128i v = _mm_load_si128((const __m128i *)&tags[b * BUCKET]);
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)tag)));
#else
    unsigned m = 0;
    for (unsigned i = 0; i < BUCKET; i++)
        if (tags[b * BUCKET + i] == tag)
            m |= 1u << i;
    return m;
#endif
}

/* The slot of the word, or NULL; *free_at: the first free slot where it
 * would go. */
static const struct slot *find(const char *key, size_t n, uint32_t *free_at)
{
    uint64_t h = hash(key, n), key0 = key_at(key, 0);
    uint32_t b = bucket_of(h);
    uint8_t tag = tag_of(h);
    for (;;) {
        unsigned m = tag_mask(b, tag), free;
        while (m) {
            const struct slot *sl = &slots[b * BUCKET + (unsigned)__builtin_ctz(m)];
            if (same_word(sl, key, key0, n))
                return sl;
            m &= m - 1;
        }
        free = tag_mask(b, 0);
        if (free) {
            if (free_at)
                *free_at = b * BUCKET + (unsigned)__builtin_ctz(free);
            return NULL;
        }
        b = (b + 1) & (BUCKETS - 1);
    }
}

static void build(void)
{
    size_t used = 0;
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        const char *p = lists[l].words;
        while (*p) {
            const char *sp = strchr(p, ' ');
            size_t n = sp ? (size_t)(sp - p) : strlen(p);
            uint64_t key[KEY_WORDS] = {0};
            const char *k = (const char *)key;
            const struct slot *found;
            uint32_t at;
            /* a longer word could never match: tokens keep CTX_FOLD_MAX bytes */
            if (n <= CTX_FOLD_MAX) {
                memcpy(key, p, n);
                found = find(k, n, &at);
                if (found) {
                    slots[found - slots].lex |= lists[l].lex;
                } else if (used < MAX_WORDS) {
                    memcpy(entries[used].key, key, sizeof(key));
                    slots[at].key0 = key[0];
                    slots[at].n = (uint16_t)n;
                    slots[at].lex = lists[l].lex;
                    slots[at].idx = (uint16_t)++used;
                    tags[at] = tag_of(hash(k, n));
                }
            }
            p += n + (sp != NULL);
        }
    }
}

void pii_ctx_words_init(void)
{
    (void)pthread_once(&built, build);
}

uint32_t pii_ctx_lookup(const char *fold, size_t n)
{
    uint64_t h = hash(fold, n), key0 = key_at(fold, 0);
    uint32_t b = bucket_of(h);
    unsigned m = tag_mask(b, tag_of(h)), more;
    uint32_t any, at;
    const struct slot *sl;
    bool match;
    /* Whether a word is in a list is as good as random: the common case
     * (its bucket has a free tag, at most one tag matches) goes without a
     * branch on it. No match reads the empty slot past the last, which
     * stays in the cache, rather than one of the table. */
    more = m & (m - 1);
    if (!tag_mask(b, 0) || more) {
        sl = find(fold, n, NULL);
        return sl ? sl->lex : 0;
    }
    any = 0u - (uint32_t)(m != 0);
    at = ((b * BUCKET + (unsigned)__builtin_ctz(m | 1u << BUCKET)) & any) | (SLOTS & ~any);
    sl = &slots[at];
    match = (sl->n == n) & (sl->key0 == key0);
    if (match && n > 8)
        match = same_word(sl, fold, key0, n);
    return sl->lex & (0u - (uint32_t)match); /* a mask, not a branch */
}

int pii_ctx_month(const char *fold)
{
    for (size_t i = 0; i < sizeof(months) / sizeof(months[0]); i++)
        if (strcmp(months[i].w, fold) == 0)
            return months[i].m;
    return 0;
}
